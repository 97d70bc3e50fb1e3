// Background jobs for the GUI: core work runs on a thread pool through QtConcurrent, its progress
// and cancellation go through a QPromise (adapted to core's ProgressSink), and its result comes
// back to the GUI thread through a QFutureWatcher. Every job belongs to a named slot ("model",
// "forward", "projection", ...): starting a job cancels the slot's previous one, and a result that
// arrives after its slot moved on is dropped (the generation-counter idea of KDAB Hotspot's
// JobTracker). Nothing a job does can escape into the event loop: an exception of any type (in the
// work, in its result handler or in a receiver of the tracker's signals) and a null pointer result
// become a one-line message, and every job ends exactly once (jobEnded), so isIdle() never lies.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <QElapsedTimer>
#include <QFuture>
#include <QFutureWatcher>
#include <QHash>
#include <QObject>
#include <QPromise>
#include <QString>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include "core/base/error.h"
#include "core/base/progress.h"
#include "ui/convert.h"
#include "ui/thread_handover.h"

namespace zfvis::ui {

/// Clears the upper halves of the AVX registers of the calling thread (vzeroupper) when the CPU
/// has AVX. Qt's GUI code leaves them dirty on some CPUs (seen on AVX-512 Xeons), after which
/// every SSE instruction in this thread, and in threads it creates, runs many times slower: the
/// He-normal fill of a built-in model took 12 s instead of 1.5 s. Every job calls this first.
void clearUpperSimdState();

/// Core's ProgressSink on top of a QPromise: progress in permille (with "done / total" as the
/// progress text), cancellation from QPromise::isCanceled().
template <typename T>
class PromiseProgressSink final : public ProgressSink {
 public:
  /// Reports into `promise`, which must outlive the sink.
  explicit PromiseProgressSink(QPromise<T>& promise) : m_promise(promise) {
    m_promise.setProgressRange(0, 1000);
  }
  /// Forwards progress (monotonic: QPromise ignores values below the current one).
  void report(int64_t done, int64_t total) override {
    if (total <= 0) return;
    const int permille = static_cast<int>(std::clamp<int64_t>(done * 1000 / total, 0, 1000));
    m_promise.setProgressValueAndText(permille, QStringLiteral("%1 / %2").arg(done).arg(total));
  }
  /// True once the job was cancelled (by the user or because its slot moved on).
  bool cancelled() const override { return m_promise.isCanceled(); }

 private:
  QPromise<T>& m_promise;
};

namespace detail {

/// Results that can be null (raw, shared and unique pointers): a null one is reported as an
/// error instead of reaching a result handler that would dereference it.
template <typename T>
struct CanBeNull : std::is_pointer<T> {};
template <typename U>
struct CanBeNull<std::shared_ptr<U>> : std::true_type {};
template <typename U, typename D>
struct CanBeNull<std::unique_ptr<U, D>> : std::true_type {};

/// One line describing an exception of any type ("out of memory" for std::bad_alloc, "unknown
/// error" for types not derived from std::exception); never throws.
QString exceptionMessage(std::exception_ptr error) noexcept;

}  // namespace detail

/// How a job ended, as carried from the worker to the GUI thread.
template <typename T>
struct JobOutcome {
  std::optional<T> value;  // the result, when the work returned normally
  QString error;           // one-line message, when it threw
  bool cancelled = false;  // it threw Cancelled or was cancelled before it could finish
};

/// Where a job runs.
///
/// The open model's Session is used by one thread at a time, so its forward runs and projections
/// queue on one long-lived engine thread, in the order the user asked for them; long runs get a
/// CompiledNet of their own on a second thread so they never hold that queue up. (The lanes
/// began as a workaround: Debian's oneDNN ties a primitive's library scratchpad to the thread
/// that created it. Core now passes user-managed scratchpads, so primitives themselves may run on
/// any thread; tests/ui/test_jobs.cpp checks that.)
enum class Lane {
  General,     // any pool thread: decoding, rendering, statistics, files, downloads
  Engine,      // the engine thread: forward runs and projections of the open model
  Background,  // a second engine thread: long runs (occlusion, Export All), each on a
               // CompiledNet of its own so they never hold up the engine thread
};

class JobTracker : public QObject {
  Q_OBJECT
 public:
  /// A tracker with its own thread pool of `threads` workers (0: the ideal thread count, >= 2).
  explicit JobTracker(QObject* parent = nullptr, int threads = 0);
  /// Cancels every job and waits for the workers to finish.
  ~JobTracker() override;

  /// Runs `work(ProgressSink&)` on `lane` as the new job of `slot` (`title` is shown in the
  /// status bar). The slot's previous job is cancelled and its result will be dropped. When the
  /// work returns and the job is still current, `onResult(result)` runs on the GUI thread;
  /// when it (or onResult) throws anything, or returns a null pointer, `onError(message)` runs
  /// (or jobFailed is emitted when onError is empty or throws). Returns the job id.
  template <typename Work, typename OnResult>
  quint64 start(const QString& slot, const QString& title, Work work, OnResult onResult,
                std::function<void(const QString&)> onError = {}, Lane lane = Lane::General);

  /// Cancels the slot's current job (its result will be dropped) and emits jobCancelled.
  void cancel(const QString& slot);
  /// Cancels every job.
  void cancelAll();
  /// True while the slot has a current job.
  bool isBusy(const QString& slot) const;
  /// The slot's current job id, 0 when none.
  quint64 currentJob(const QString& slot) const;
  /// Number of jobs still running (including superseded ones that have not ended yet).
  int runningCount() const { return m_running; }
  /// True when no job is running.
  bool isIdle() const { return m_running == 0; }
  /// Processes events until no job runs or `timeoutMs` passes; returns isIdle(). For tests and
  /// the screenshot mode.
  bool waitForIdle(int timeoutMs);
  /// The pool of a lane (General: several threads; Engine, Background: one thread that never
  /// expires, so every job of the lane runs on the same thread).
  QThreadPool* pool(Lane lane = Lane::General);

 signals:
  /// A job started (its title is for the status bar).
  void jobStarted(const QString& slot, const QString& title);
  /// Progress of the slot's current job, in permille, with "done / total".
  void jobProgress(const QString& slot, int permille, const QString& text);
  /// The slot's current job threw; `message` is one line.
  void jobFailed(const QString& slot, const QString& message);
  /// The slot's current job was cancelled.
  void jobCancelled(const QString& slot);
  /// A job's result arrived after its slot moved on and was dropped.
  void resultDropped(const QString& slot, quint64 id);
  /// A job ended (whatever the outcome); `ms` is its wall time from start to the end of its
  /// result handler.
  void jobEnded(const QString& slot, quint64 id, qint64 ms);
  /// The last running job ended.
  void idle();

 private:
  struct Slot {
    quint64 current = 0;              // id of the current job, 0 when none
    std::function<void()> canceller;  // cancels the current job's future
  };
  quint64 beginJob(const QString& slot, const QString& title);
  void attachCanceller(const QString& slot, quint64 id, std::function<void()> canceller);
  bool isCurrent(const QString& slot, quint64 id) const;
  bool releaseSlot(const QString& slot, quint64 id);
  void endJob(const QString& slot, quint64 id, bool wasCurrent);
  void reportFailure(const QString& slot, const QString& message,
                     const std::function<void(const QString&)>& onError);
  /// Runs `f` (handlers, signal emissions); what it throws is written to stderr, never
  /// rethrown: Qt terminates on an exception that reaches its event loop.
  template <typename F>
  static void guarded(const QString& slot, F&& f) noexcept;
  static void logEscaped(const QString& slot, std::exception_ptr error) noexcept;
  /// The outcome a finished job's future holds (an error when it holds none or an exception).
  template <typename Outcome>
  static Outcome takeOutcome(QFuture<Outcome> future) noexcept;

  QThreadPool m_pool;            // Lane::General
  QThreadPool m_enginePool;      // Lane::Engine
  QThreadPool m_backgroundPool;  // Lane::Background
  QHash<QString, Slot> m_slots;
  QHash<quint64, qint64> m_startedAt;  // job id -> start time (ms since the tracker's clock)
  QElapsedTimer m_clock;
  bool m_log = false;  // ZFVIS_JOB_LOG set: print every job's duration
  quint64 m_nextId = 0;
  int m_running = 0;
};

template <typename Work, typename OnResult>
quint64 JobTracker::start(const QString& slot, const QString& title, Work work, OnResult onResult,
                          std::function<void(const QString&)> onError, Lane lane) {
  using T = std::decay_t<std::invoke_result_t<const Work&, ProgressSink&>>;
  using Outcome = JobOutcome<T>;
  const quint64 id = beginJob(slot, title);
  auto* watcher = new QFutureWatcher<Outcome>(this);
  connect(watcher, &QFutureWatcherBase::progressValueChanged, this,
          [this, slot, id, watcher](int value) {
            guarded(slot, [&] {
              if (isCurrent(slot, id)) emit jobProgress(slot, value, watcher->progressText());
            });
          });
  connect(watcher, &QFutureWatcherBase::finished, this,
          [this, slot, id, watcher, onResult = std::move(onResult),
           onError = std::move(onError)]() mutable {
            handOverFence();  // the worker's result and everything it wrote before
            watcher->deleteLater();
            Outcome out = takeOutcome(watcher->future());
            // The slot is free while its result is delivered: handlers see isBusy(slot) false
            // and may start the slot's next job.
            const bool current = releaseSlot(slot, id);
            guarded(slot, [&] {
              if (!current) {
                emit resultDropped(slot, id);
              } else if (out.cancelled) {
                emit jobCancelled(slot);
              } else if (!out.value) {
                reportFailure(slot, out.error, onError);
              } else {
                try {
                  onResult(std::move(*out.value));
                } catch (...) {
                  reportFailure(slot, detail::exceptionMessage(std::current_exception()), onError);
                }
              }
            });
            endJob(slot, id, current);
          });
  QFuture<Outcome> future;
  {
    HandOver handOver;  // the work's captures, copied into the pool's task
    future = QtConcurrent::run(pool(lane), [work = std::move(work)](QPromise<Outcome>& promise) {
      handOverFence();
      clearUpperSimdState();
      Outcome out;
      try {
        PromiseProgressSink<Outcome> sink(promise);
        if (promise.isCanceled()) throw Cancelled();
        out.value.emplace(work(sink));
        if constexpr (detail::CanBeNull<T>::value)
          if (!*out.value) throw Error("internal error: the job returned no result");
      } catch (const Cancelled&) {
        out.value.reset();
        out.cancelled = true;
      } catch (...) {
        out.value.reset();
        out.error = detail::exceptionMessage(std::current_exception());
      }
      try {
        HandOver handOver;  // the result, copied into the future's store
        promise.addResult(std::move(out));
      } catch (...) {
        // No memory left to store it: the GUI side reports a job without a result.
      }
    });
  }
  watcher->setFuture(future);
  attachCanceller(slot, id, [future]() mutable { future.cancel(); });
  return id;
}

template <typename F>
void JobTracker::guarded(const QString& slot, F&& f) noexcept {
  try {
    f();
  } catch (...) {
    logEscaped(slot, std::current_exception());
  }
}

template <typename Outcome>
Outcome JobTracker::takeOutcome(QFuture<Outcome> future) noexcept {
  Outcome out;
  try {
    future.waitForFinished();  // it has finished: only rethrows what escaped the worker, if any
    if (future.resultCount() > 0) return future.result();
    out.cancelled = future.isCanceled();
    if (!out.cancelled)
      out.error = QStringLiteral("internal error: the job ended without a result");
  } catch (...) {
    out = Outcome();
    out.error = detail::exceptionMessage(std::current_exception());
  }
  return out;
}

}  // namespace zfvis::ui
