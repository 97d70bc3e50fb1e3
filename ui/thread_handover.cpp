#include "ui/thread_handover.h"

namespace zfvis::ui {

#if defined(__SANITIZE_THREAD__)
std::recursive_mutex& handOverMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}
#endif

}  // namespace zfvis::ui
