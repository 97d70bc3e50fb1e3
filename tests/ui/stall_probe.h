// Measures GUI-thread stalls by timing every top-level event the GUI thread handles (input, timers,
// paints, posted calls, job results; a TimedApplication reports each one) and every piece of work
// a test does on it directly (StallProbe::Scope). A stall is one such event's duration minus the
// time spent waiting for a CPU (run-queue delay, from /proc/self/task/TID/schedstat) by the GUI
// thread and by the threads of Qt's global pool, across which Qt's raster engine splits large
// paints while the GUI thread waits (the longest of their delays is subtracted). So other
// processes on a busy machine and our low-priority job threads do not count, while work and
// blocking waits on the GUI thread (locks, file writes, paints) do; time the loop spends idle or a
// test spends sleeping is no event and never counts. Without schedstat nothing is subtracted.
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QMap>
#include <QMetaEnum>
#include <QSemaphore>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QThreadPool>

#include "ui/thread_handover.h"

namespace zfvis::uitest {

class StallProbe {
 public:
  /// Starts measuring (create on the GUI thread; one at a time).
  StallProbe() {
    m_clock.start();
    m_files.push_back(openSchedstat(long(syscall(SYS_gettid))));
    for (long tid : paintThreads()) m_files.push_back(openSchedstat(tid));
    s_current = this;
  }
  ~StallProbe() {
    s_current = nullptr;
    for (int fd : m_files)
      if (fd >= 0) ::close(fd);
  }
  StallProbe(const StallProbe&) = delete;
  StallProbe& operator=(const StallProbe&) = delete;

  /// The probe measuring now (null when none).
  static StallProbe* current() { return s_current; }

  /// Times the enclosing block as one piece of GUI-thread work, named `what` (nested scopes and
  /// events are part of the outermost one).
  class Scope {
   public:
    Scope(StallProbe* probe, QString what) : m_probe(probe) {
      if (m_probe) m_probe->begin(std::move(what));
    }
    ~Scope() {
      if (m_probe) m_probe->end();
    }
    /// Renames the work (when it is the outermost).
    void rename(QString what) {
      if (m_probe && m_probe->m_depth == 1) m_probe->m_what = std::move(what);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StallProbe* m_probe;
  };

  /// Whether run-queue delays can be read (else stalls are plain durations).
  bool corrected() const { return m_files.front() >= 0; }
  /// Starts a new phase, named in the report.
  void phase(const QString& name) { m_phase = name; }
  /// Names what the test is doing (the report names the one before the worst stall).
  void label(const QString& what) { m_label = what; }
  /// Longest stall so far, in ms.
  double worst() const { return m_worst; }
  /// Longest stall in phase `name`, in ms.
  double worstIn(const QString& name) const { return m_phaseWorst.value(name); }
  /// Top-level events and scopes timed.
  long count() const { return m_count; }
  /// One line: the worst stall and what it was, the count over 20 ms, and per-phase worsts.
  QString report() const {
    QStringList parts;
    for (auto it = m_phaseWorst.cbegin(); it != m_phaseWorst.cend(); ++it)
      parts << QString("%1 %2 ms").arg(it.key()).arg(it.value(), 0, 'f', 1);
    return QString(
               "worst stall %1 ms (%2, in %3%4); %5 events timed, %6 over 20 ms; longest event "
               "%7 ms before subtracting CPU waits%8; per phase: %9")
        .arg(m_worst, 0, 'f', 1)
        .arg(m_worstWhat, m_worstPhase,
             m_worstLabel.isEmpty() ? QString() : ", after " + m_worstLabel)
        .arg(m_count)
        .arg(m_over20)
        .arg(m_worstRaw, 0, 'f', 1)
        .arg(corrected() ? QString() : QString(" (no schedstat: not corrected)"))
        .arg(parts.join(", "));
  }

 private:
  friend class TimedApplication;

  static int openSchedstat(long tid) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/schedstat";
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  // Run-queue delay in ns read from an open schedstat file, -1 when unknown.
  static long long runQueueNs(int fd) {
    char buf[128];
    if (fd < 0) return -1;
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    char* end = nullptr;
    std::strtoull(buf, &end, 10);  // time on a CPU
    return static_cast<long long>(std::strtoull(end, nullptr, 10));
  }
  // The threads of Qt's global pool, kept alive and each started once so their ids are known.
  static std::vector<long> paintThreads() {
    QThreadPool* pool = QThreadPool::globalInstance();
    pool->setExpiryTimeout(-1);
    const int n = pool->maxThreadCount();
    std::vector<long> tids;
    std::mutex mutex;  // (not QMutex: ThreadSanitizer does not see Qt's futexes)
    QSemaphore started, release, finished;
    {
      ui::HandOver handOver;  // (ui/thread_handover.h: the tasks' captures; not held while waiting)
      for (int i = 0; i < n; ++i)
        pool->start([&] {
          ui::handOverFence();
          {
            std::lock_guard lock(mutex);
            tids.push_back(long(syscall(SYS_gettid)));
          }
          started.release();
          release.acquire();  // hold the thread until every task has one of its own
          finished.release();
        });
    }
    started.acquire(n);
    release.release(n);
    finished.acquire(n);  // (not waitForDone(): it would end the pool's threads)
    std::lock_guard lock(mutex);
    return tids;
  }
  std::vector<long long> delays() const {
    std::vector<long long> d;
    for (int fd : m_files) d.push_back(runQueueNs(fd));
    return d;
  }
  void begin(QString what) {
    if (m_depth++ > 0) return;
    m_what = std::move(what);
    m_start = m_clock.nsecsElapsed();
    m_startDelays = delays();
  }
  void end() {
    if (--m_depth > 0) return;
    ++m_count;
    const double ms = double(m_clock.nsecsElapsed() - m_start) / 1e6;
    if (ms < 2) {  // too short to be worth reading the delays
      m_phaseWorst[m_phase] = std::max(m_phaseWorst.value(m_phase), ms);
      return;
    }
    const std::vector<long long> d = delays();
    double gui = 0, paint = 0;  // ms in the run queue during the event
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] < 0 || m_startDelays[i] < 0) continue;
      const double q = double(d[i] - m_startDelays[i]) / 1e6;
      if (i == 0)
        gui = q;
      else
        paint = std::max(paint, q);
    }
    const double stall = std::max(0.0, ms - gui - paint);
    m_worstRaw = std::max(m_worstRaw, ms);
    m_phaseWorst[m_phase] = std::max(m_phaseWorst.value(m_phase), stall);
    if (stall > 20) ++m_over20;
    if (stall > m_worst) {
      m_worst = stall;
      m_worstWhat = m_what;
      m_worstPhase = m_phase;
      m_worstLabel = m_label;
    }
  }

  static inline StallProbe* s_current = nullptr;
  QElapsedTimer m_clock;
  std::vector<int> m_files;  // schedstat of the GUI thread, then of each paint thread
  int m_depth = 0;
  qint64 m_start = 0;
  std::vector<long long> m_startDelays;
  QString m_what, m_phase = "start", m_label;
  long m_count = 0;
  int m_over20 = 0;
  double m_worst = 0, m_worstRaw = 0;
  QString m_worstWhat, m_worstPhase, m_worstLabel;
  QMap<QString, double> m_phaseWorst;
};

/// The test's QApplication: times every top-level event with the current StallProbe.
class TimedApplication : public QApplication {
 public:
  using QApplication::QApplication;
  bool notify(QObject* receiver, QEvent* event) override {
    StallProbe* probe = StallProbe::current();
    if (!probe || QThread::currentThread() != thread())
      return QApplication::notify(receiver, event);
    // Described lazily: only the outermost event of a scope keeps its name.
    StallProbe::Scope scope(probe, probe->m_depth > 0 ? QString() : describe(receiver, event));
    return QApplication::notify(receiver, event);
  }

 private:
  static QString describe(QObject* receiver, QEvent* event) {
    const char* type = QMetaEnum::fromType<QEvent::Type>().valueToKey(event->type());
    return QString("%1 to %2").arg(type ? type : "event", receiver->metaObject()->className());
  }
};

}  // namespace zfvis::uitest
