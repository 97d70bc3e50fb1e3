// ZFVIS_THREADS: a cap on the engine's threads (the sanitizer runs set it to 1, users may set it
// to share a machine). The ctest entry threads_cap.test_engine runs these with ZFVIS_THREADS=1.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/engine/engine.h"
#include "core/engine/engine_threads.h"

namespace zfvis {
namespace {

TEST(EngineThreads, CapAcceptsOnlyWholeNumbersFromOneTo1024) {
  EXPECT_EQ(parseThreadCap("1"), 1);
  EXPECT_EQ(parseThreadCap("3"), 3);
  EXPECT_EQ(parseThreadCap("1024"), 1024);
  for (const char* bad : {"", "0", "1025", "-1", "+2", " 2", "2 ", "2x", "0x10", "1.5",
                          "99999999999999999999", "abc"})
    EXPECT_EQ(parseThreadCap(bad), 0) << "'" << bad << "'";
  EXPECT_EQ(parseThreadCap(nullptr), 0);
}

TEST(EngineThreads, TheEnvironmentCapsEveryRequest) {
  const int cap = parseThreadCap(std::getenv("ZFVIS_THREADS"));
  const int asked = cap > 0 ? cap + 5 : 5;
  const int expected = cap > 0 ? cap : asked;
  EXPECT_EQ(engineThreads(asked), expected);
  EXPECT_EQ(engineThreads(1), 1);
  if (cap > 0) EXPECT_LE(engineThreads(0), cap);
  // What setEngineThreads put in place is what the next call reports as the previous value.
  const int before = setEngineThreads(asked);
  EXPECT_EQ(setEngineThreads(before), expected);
}

}  // namespace
}  // namespace zfvis
