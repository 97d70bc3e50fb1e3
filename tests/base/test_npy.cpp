// .npy reading and writing against files written by NumPy (tests/fixtures/npy, made by
// tests/fixtures/scripts/make_core_fixtures.py).
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "core/base/atomic_file.h"
#include "core/base/error.h"
#include "core/base/npy.h"

namespace zfvis {
namespace {

const std::filesystem::path kDir = std::filesystem::path(ZFVIS_FIXTURES_DIR) / "npy";

TEST(Npy, ReadsNumpyFloat32AndFloat64) {
  Tensor a = readNpy(kDir / "f32_2x3.npy");
  ASSERT_EQ(a.shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(a[i], 0.5f * float(i) - 1.0f);
  Tensor b = readNpy(kDir / "f64_4.npy");
  ASSERT_EQ(b.shape(), (Shape{4}));
  EXPECT_FLOAT_EQ(b[3], 3.25f);
}

TEST(Npy, RefusesOtherDtypesOrdersAndTruncation) {
  for (const char* f :
       {"i32_3.npy", "f32_big_endian.npy", "f32_fortran.npy", "f32_truncated.npy"}) {
    try {
      readNpy(kDir / f);
      FAIL() << f;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  }
}

// A version 1.0 .npy with the given header dictionary and `values` float32 zeros.
std::string npyWithHeader(std::string dict, size_t values) {
  dict += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() & 0xff) +
                    char(dict.size() >> 8) + dict;
  return out + std::string(values * 4, '\0');
}

TEST(Npy, ShapesMustBeNonNegativeWholeNumbers) {
  const std::string prefix = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  // (3, -67, 67) used to be read as 3 x 67 x 67 (the minus sign was skipped).
  for (const char* shape : {"(3, -67, 67)", "(3, 6.5)", "(3, x)", "(, 3)", "(3,, 4)"}) {
    try {
      parseNpy(npyWithHeader(prefix + shape + ", }", 3 * 67 * 67), "bad.npy");
      FAIL() << shape;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("bad.npy: .npy shape ", 0), 0u) << m;
      EXPECT_NE(m.find("non-negative whole numbers"), std::string::npos) << m;
    }
  }
  EXPECT_EQ(parseNpy(npyWithHeader(prefix + "(3, 67, 67), }", 3 * 67 * 67), "ok").shape(),
            (Shape{3, 67, 67}));
  EXPECT_EQ(parseNpy(npyWithHeader(prefix + "(5,), }", 5), "ok").shape(), (Shape{5}));
  EXPECT_EQ(parseNpy(npyWithHeader(prefix + "(2,3), }", 6), "ok").shape(), (Shape{2, 3}));
}

TEST(Npy, WritesWhatNumpyWouldWrite) {
  // Byte-for-byte equal to numpy.save of the same array.
  Tensor a(Shape{2, 3});
  for (int i = 0; i < 6; ++i) a[i] = 0.5f * float(i) - 1.0f;
  EXPECT_EQ(npyBytes(a), readFile(kDir / "f32_2x3.npy"));
}

TEST(Npy, Int32RoundTrip) {
  auto dir =
      std::filesystem::temp_directory_path() / ("zfvis-npy-int-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  writeNpyInt32(dir / "l.npy", Shape{2, 2}, {1, -2, 3, 4});
  NpyInt32 r = readNpyInt32(dir / "l.npy");
  EXPECT_EQ(r.shape, (Shape{2, 2}));
  EXPECT_EQ(r.values, (std::vector<int32_t>{1, -2, 3, 4}));
  EXPECT_EQ(readNpyInt32(kDir / "i32_3.npy").values, (std::vector<int32_t>{7, -8, 9}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zfvis
