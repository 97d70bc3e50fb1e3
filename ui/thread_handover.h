// Data handed from one thread to another through Qt (a thread pool's queue, a queued call, a
// future's result), made visible to ThreadSanitizer. Qt orders such hand-overs with its QMutex, a
// futex that ThreadSanitizer cannot see in Debian's uninstrumented Qt, so it would report every
// job's captures and results as races, and a broad suppression would hide the real ones. In
// ThreadSanitizer builds the sending thread holds one mutex while it hands data over
// (HandOver, around the Qt call) and the receiving thread takes that mutex before it touches the
// data (handOverFence); a thread whose writes end before the Qt call that announces them calls
// handOverFence after writing. The same ordering Qt gives, in a form the sanitizer sees; in
// every other build both are empty.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <mutex>
#endif

namespace zfvis::ui {

#if defined(__SANITIZE_THREAD__)
/// The one mutex of every hand-over (recursive: a hand-over inside another one cannot deadlock).
std::recursive_mutex& handOverMutex();

/// Held by the sending thread around the Qt call that hands data over.
class HandOver {
 public:
  HandOver() : m_lock(handOverMutex()) {}

 private:
  std::lock_guard<std::recursive_mutex> m_lock;
};

/// Called by a receiving thread before it reads what was handed over, and by a sending thread
/// after writing what a later Qt call hands over.
inline void handOverFence() {
  std::lock_guard lock(handOverMutex());
}
#else
class HandOver {
 public:
  HandOver() {}  // (user-provided: `HandOver h;` is not an unused variable)
};
inline void handOverFence() {}
#endif

}  // namespace zfvis::ui
