// JobTracker: results come back on the GUI thread, stale results are dropped, cancellation
// reaches core's ProgressSink, exceptions become one-line errors, progress is reported; and no
// failure of any kind (exceptions of any type anywhere, null results, results that cannot be
// copied, throwing receivers, late results of cancelled jobs) crashes or leaves a job unfinished.
#include <atomic>
#include <memory>
#include <new>
#include <thread>

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include "core/base/error.h"
#include "tests/ui/ui_test_util.h"
#include "ui/jobs.h"

using namespace zfvis;
using namespace zfvis::ui;

class Jobs : public QObject {
  Q_OBJECT
 private slots:
  void resultArrivesOnTheGuiThread() {
    JobTracker jobs;
    int result = 0;
    QThread* worker = nullptr;
    QThread* handler = nullptr;
    jobs.start(
        "slot", "answer",
        [&worker](ProgressSink&) {
          worker = QThread::currentThread();
          return 42;
        },
        [&](int r) {
          result = r;
          handler = QThread::currentThread();
        });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(result, 42);
    QCOMPARE(handler, QThread::currentThread());
    QVERIFY(worker != QThread::currentThread());
    QVERIFY(!jobs.isBusy("slot"));
  }

  void staleResultIsDropped() {
    JobTracker jobs;
    QSignalSpy dropped(&jobs, &JobTracker::resultDropped);
    QList<int> results;
    const quint64 first = jobs.start(
        "slot", "slow",
        [](ProgressSink&) {
          QThread::msleep(150);  // ignores cancellation on purpose: its result must be dropped
          return 1;
        },
        [&](int r) { results << r; });
    const quint64 second = jobs.start(
        "slot", "fast", [](ProgressSink&) { return 2; }, [&](int r) { results << r; });
    QVERIFY(second > first);
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(results, QList<int>{2});
    QCOMPARE(dropped.count(), 1);
    QCOMPARE(dropped.at(0).at(1).toULongLong(), first);
  }

  void otherSlotsAreIndependent() {
    JobTracker jobs;
    QList<int> results;
    jobs.start(
        "a", "a", [](ProgressSink&) { return 1; }, [&](int r) { results << r; });
    jobs.start(
        "b", "b", [](ProgressSink&) { return 2; }, [&](int r) { results << r; });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    std::sort(results.begin(), results.end());
    QCOMPARE(results, (QList<int>{1, 2}));
  }

  void cancelStopsACooperativeJob() {
    JobTracker jobs;
    QSignalSpy cancelled(&jobs, &JobTracker::jobCancelled);
    std::atomic<int> steps{0};
    bool delivered = false;
    QElapsedTimer timer;
    timer.start();
    jobs.start(
        "occlusion", "long",
        [&steps](ProgressSink& sink) {
          for (int i = 0; i < 1000; ++i) {
            reportProgress(&sink, i, 1000);  // throws Cancelled once cancelled
            ++steps;
            QThread::msleep(5);
          }
          return 0;
        },
        [&](int) { delivered = true; });
    QTRY_VERIFY_WITH_TIMEOUT(steps > 3, 5000);
    jobs.cancel("occlusion");
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QVERIFY(!delivered);
    QCOMPARE(cancelled.count(), 1);
    QVERIFY2(steps < 1000, "the job ran to the end");
    QVERIFY(timer.elapsed() < 4000);
  }

  void exceptionBecomesOneLineError() {
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    jobs.start(
        "model", "bad",
        [](ProgressSink&) -> int {
          throw Error("cannot open model 'x.onnx': truncated\n  at byte 12");
        },
        [](int) {});
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), QString("model"));
    QCOMPARE(failed.at(0).at(1).toString(), QString("cannot open model 'x.onnx': truncated"));
  }

  void errorHandlerReplacesTheSignal() {
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    QString message;
    jobs.start(
        "view", "bad", [](ProgressSink&) -> int { throw Error("no maps"); }, [](int) {},
        [&](const QString& m) { message = m; });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(message, QString("no maps"));
    QCOMPARE(failed.count(), 0);
  }

  void resultHandlerExceptionIsCaught() {
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    jobs.start(
        "slot", "x", [](ProgressSink&) { return 1; }, [](int) { throw Error("handler failed"); });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QString("handler failed"));
  }

  void progressIsReported() {
    JobTracker jobs;
    QSignalSpy progress(&jobs, &JobTracker::jobProgress);
    jobs.start(
        "export", "steps",
        [](ProgressSink& sink) {
          for (int i = 1; i <= 5; ++i) {
            QThread::msleep(60);  // longer than Qt's progress throttling (40 ms)
            reportProgress(&sink, i, 5);
          }
          return true;
        },
        [](bool) {});
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QVERIFY(progress.count() >= 2);
    int last = -1;
    for (const auto& args : progress) {
      QVERIFY(args.at(1).toInt() > last);
      last = args.at(1).toInt();
    }
    QCOMPARE(last, 1000);
    QCOMPARE(progress.last().at(2).toString(), QString("5 / 5"));
  }

  void badAllocInTheWorkIsAnError() {
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    jobs.start(
        "forward", "huge", [](ProgressSink&) -> int { throw std::bad_alloc(); }, [](int) {});
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QString("out of memory"));
  }

  void exceptionOfAnUnknownTypeIsAnError() {
    struct NotAnException {
      int code = 3;
    };
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    jobs.start(
        "a", "int", [](ProgressSink&) -> int { throw 42; }, [](int) {});
    jobs.start(
        "b", "struct", [](ProgressSink&) -> int { throw NotAnException(); }, [](int) {});
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(failed.count(), 2);
    for (const auto& args : failed) QCOMPARE(args.at(1).toString(), QString("unknown error"));
  }

  void nullResultIsAnErrorAndNeverReachesTheHandler() {
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    int seen = 0;
    jobs.start(
        "projection", "null", [](ProgressSink&) { return std::shared_ptr<const int>(); },
        [&](std::shared_ptr<const int> p) { seen = *p; });  // a view's handler dereferences
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(seen, 0);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QString("internal error: the job returned no result"));
  }

  void resultThatCannotBeCopiedOutIsAnError() {
    // Moving works (the worker moves it into the future); copying it out on the GUI thread
    // throws, as a copy of a large result can when memory runs out.
    struct CopyFails {
      CopyFails() = default;
      CopyFails(CopyFails&&) = default;
      CopyFails& operator=(CopyFails&&) = default;
      CopyFails(const CopyFails&) { throw std::bad_alloc(); }
      CopyFails& operator=(const CopyFails&) { throw std::bad_alloc(); }
    };
    JobTracker jobs;
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    bool delivered = false;
    jobs.start(
        "slot", "copy", [](ProgressSink&) { return CopyFails(); },
        [&](CopyFails) { delivered = true; });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QVERIFY(!delivered);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(1).toString(), QString("out of memory"));
  }

  void throwingHandlersAndReceiversNeverReachTheEventLoop() {
    JobTracker jobs;
    // Receivers of the tracker's signals that throw (a non-std type, then a std one).
    connect(&jobs, &JobTracker::jobFailed, &jobs, [] { throw 7; });
    connect(&jobs, &JobTracker::jobCancelled, &jobs, [] { throw Error("receiver failed"); });
    connect(&jobs, &JobTracker::resultDropped, &jobs, [] { throw 8; });
    QSignalSpy ended(&jobs, &JobTracker::jobEnded);
    // An error handler that throws falls back to jobFailed, whose receiver throws too.
    jobs.start(
        "a", "fails", [](ProgressSink&) -> int { throw Error("work failed"); }, [](int) {},
        [](const QString&) { throw 9; });
    // A result handler that throws something that is not an exception.
    jobs.start(
        "b", "handler", [](ProgressSink&) { return 1; }, [](int) { throw 10; });
    // A superseded job (resultDropped) and a cancelled one (jobCancelled).
    jobs.start(
        "c", "old",
        [](ProgressSink&) {
          QThread::msleep(50);
          return 1;
        },
        [](int) {});
    jobs.start(
        "c", "new", [](ProgressSink&) { return 2; }, [](int) {});
    jobs.start(
        "d", "cancelled",
        [](ProgressSink&) {
          QThread::msleep(50);
          return 1;
        },
        [](int) {});
    jobs.cancel("d");
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(ended.count(), 5);  // every job ended once, whatever its receivers did
    QCOMPARE(jobs.runningCount(), 0);
  }

  void cancelledJobsLateResultIsDroppedAndTheSlotWorksOn() {
    JobTracker jobs;
    QSignalSpy cancelled(&jobs, &JobTracker::jobCancelled);
    QSignalSpy dropped(&jobs, &JobTracker::resultDropped);
    QSignalSpy failed(&jobs, &JobTracker::jobFailed);
    std::atomic<bool> started{false}, finished{false};
    QList<int> results;
    const quint64 late = jobs.start(
        "projection", "ignores cancel",
        [&](ProgressSink&) {
          started = true;
          QThread::msleep(200);  // no cancellation point: its result arrives after the cancel
          finished = true;
          return std::make_shared<const int>(1);
        },
        [&](std::shared_ptr<const int> p) { results << *p; });
    QTRY_VERIFY_WITH_TIMEOUT(started, 5000);
    jobs.cancel("projection");
    QCOMPARE(cancelled.count(), 1);
    QVERIFY(!jobs.isBusy("projection"));
    QTRY_VERIFY_WITH_TIMEOUT(finished, 5000);
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QVERIFY(results.isEmpty());
    QCOMPARE(dropped.count(), 1);
    QCOMPARE(dropped.at(0).at(1).toULongLong(), late);
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(failed.count(), 0);
    jobs.start(
        "projection", "next", [](ProgressSink&) { return std::make_shared<const int>(2); },
        [&](std::shared_ptr<const int> p) { results << *p; });
    ZFVIS_WAIT_IDLE(&jobs, 5000);
    QCOMPARE(results, QList<int>{2});
  }

  void destructionCancelsAndWaits() {
    std::atomic<bool> finished{false};
    QElapsedTimer timer;
    timer.start();
    {
      JobTracker jobs;
      jobs.start(
          "slot", "long",
          [&finished](ProgressSink& sink) {
            try {
              for (int i = 0; i < 1000; ++i) {
                reportProgress(&sink, i, 1000);
                QThread::msleep(5);
              }
            } catch (...) {
              finished = true;
              throw;
            }
            finished = true;
            return 0;
          },
          [](int) {});
      QThread::msleep(30);
    }
    QVERIFY(finished);
    QVERIFY(timer.elapsed() < 3000);
  }
};

QTEST_GUILESS_MAIN(Jobs)
#include "test_jobs.moc"
