// Progress reporting and cooperative cancellation for long core calls.
#pragma once

#include <cstdint>

#include "core/base/error.h"

namespace zfvis {

/// Passed into every long core call; the UI adapts it to QPromise, the CLI prints a line.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  /// Reports that `done` of `total` units of work are finished.
  virtual void report(int64_t done, int64_t total) = 0;
  /// True when the caller wants the work to stop as soon as possible.
  virtual bool cancelled() const { return false; }
};

/// Forwards another sink's cancellation but none of the progress (for inner calls whose
/// progress would confuse the outer count).
class CancellationOnly : public ProgressSink {
 public:
  explicit CancellationOnly(const ProgressSink* outer) : m_outer(outer) {}
  void report(int64_t, int64_t) override {}
  bool cancelled() const override { return m_outer && m_outer->cancelled(); }

 private:
  const ProgressSink* m_outer;
};

/// Reports progress to `sink` (may be null) and throws Cancelled if it asks to stop.
inline void reportProgress(ProgressSink* sink, int64_t done, int64_t total) {
  if (!sink) return;
  if (sink->cancelled()) throw Cancelled();
  sink->report(done, total);
}

}  // namespace zfvis
