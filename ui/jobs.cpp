#include "ui/jobs.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QThread>

#include <cstdio>
#include <exception>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace zfvis::ui {

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx"))) static void vzeroupper() {
  _mm256_zeroupper();
}
void clearUpperSimdState() {
  static const bool hasAvx = __builtin_cpu_supports("avx");
  if (hasAvx) vzeroupper();
}
#else
void clearUpperSimdState() {}
#endif

namespace detail {

QString exceptionMessage(std::exception_ptr error) noexcept {
  try {
    if (!error) return QStringLiteral("unknown error");
    try {
      std::rethrow_exception(error);
    } catch (const std::bad_alloc&) {
      return QStringLiteral("out of memory");
    } catch (const std::exception& e) {
      return oneLine(e.what());
    }
  } catch (...) {
    // A type not derived from std::exception, or what() or the message itself threw.
  }
  return QStringLiteral("unknown error");
}

}  // namespace detail

JobTracker::JobTracker(QObject* parent, int threads) : QObject(parent) {
  if (threads <= 0) threads = std::max(2, QThread::idealThreadCount());
  m_pool.setMaxThreadCount(threads);
  for (QThreadPool* p : {&m_enginePool, &m_backgroundPool}) {
    p->setMaxThreadCount(1);
    p->setExpiryTimeout(-1);  // the same thread for the whole session
  }
  m_clock.start();
  m_log = qEnvironmentVariableIsSet("ZFVIS_JOB_LOG");
}

JobTracker::~JobTracker() {
  for (auto it = m_slots.begin(); it != m_slots.end(); ++it)
    if (it->canceller) it->canceller();
  m_pool.waitForDone();
  m_enginePool.waitForDone();
  m_backgroundPool.waitForDone();
}

QThreadPool* JobTracker::pool(Lane lane) {
  switch (lane) {
    case Lane::Engine:
      return &m_enginePool;
    case Lane::Background:
      return &m_backgroundPool;
    default:
      return &m_pool;
  }
}

quint64 JobTracker::beginJob(const QString& slot, const QString& title) {
  Slot& s = m_slots[slot];
  if (s.canceller) s.canceller();
  s.canceller = {};
  s.current = ++m_nextId;
  m_startedAt.insert(s.current, m_clock.elapsed());
  ++m_running;
  guarded(slot, [&] { emit jobStarted(slot, title); });
  return s.current;
}

void JobTracker::attachCanceller(const QString& slot, quint64 id, std::function<void()> canceller) {
  auto it = m_slots.find(slot);
  if (it != m_slots.end() && it->current == id) it->canceller = std::move(canceller);
}

bool JobTracker::isCurrent(const QString& slot, quint64 id) const {
  auto it = m_slots.constFind(slot);
  return it != m_slots.cend() && it->current == id;
}

bool JobTracker::releaseSlot(const QString& slot, quint64 id) {
  auto it = m_slots.find(slot);
  if (it == m_slots.end() || it->current != id) return false;
  it->current = 0;
  it->canceller = {};
  return true;
}

void JobTracker::endJob(const QString& slot, quint64 id, bool wasCurrent) {
  --m_running;
  const qint64 ms = m_clock.elapsed() - m_startedAt.take(id);
  if (m_log)
    std::fprintf(stderr, "zfvis job %s #%llu: %lld ms%s\n", qPrintable(slot),
                 static_cast<unsigned long long>(id), static_cast<long long>(ms),
                 wasCurrent ? "" : " (superseded or cancelled)");
  guarded(slot, [&] {
    emit jobEnded(slot, id, ms);
    if (m_running == 0) emit idle();
  });
}

void JobTracker::reportFailure(const QString& slot, const QString& message,
                               const std::function<void(const QString&)>& onError) {
  if (onError) {
    try {
      onError(message);
      return;
    } catch (...) {
    }
  }
  emit jobFailed(slot, message);
}

void JobTracker::logEscaped(const QString& slot, std::exception_ptr error) noexcept {
  try {
    std::fprintf(stderr, "zfvis: job '%s': a handler failed: %s\n", qPrintable(slot),
                 qPrintable(detail::exceptionMessage(error)));
  } catch (...) {
  }
}

void JobTracker::cancel(const QString& slot) {
  auto it = m_slots.find(slot);
  if (it == m_slots.end() || it->current == 0) return;
  if (it->canceller) it->canceller();
  it->canceller = {};
  it->current = 0;
  guarded(slot, [&] { emit jobCancelled(slot); });
}

void JobTracker::cancelAll() {
  const QStringList names = m_slots.keys();
  for (const QString& s : names) cancel(s);
}

bool JobTracker::isBusy(const QString& slot) const {
  return currentJob(slot) != 0;
}

quint64 JobTracker::currentJob(const QString& slot) const {
  auto it = m_slots.constFind(slot);
  return it == m_slots.cend() ? 0 : it->current;
}

bool JobTracker::waitForIdle(int timeoutMs) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < timeoutMs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    if (isIdle()) {
      // Handlers and zero timers may start follow-up jobs: idle only if it stays idle.
      QCoreApplication::processEvents();
      if (isIdle()) return true;
    } else {
      QThread::msleep(1);
    }
  }
  return isIdle();
}

}  // namespace zfvis::ui
