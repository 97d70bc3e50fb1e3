// File types by name (core/base/file_types.h): one list of the image formats zfvis reads and one
// lower-case extension for every loader, dataset reader and file list.
#include <gtest/gtest.h>

#include "core/base/file_types.h"

namespace zfvis {
namespace {

TEST(FileTypes, LowerCaseExtensionsWithTheirDot) {
  EXPECT_EQ(asciiLower("AbC-09_É"), "abc-09_É");  // ASCII only: other bytes are kept
  EXPECT_EQ(lowerExtension("photo.JPG"), ".jpg");
  EXPECT_EQ(lowerExtension("dir.d/archive.tar.GZ"), ".gz");
  EXPECT_EQ(lowerExtension("README"), "");
  EXPECT_EQ(lowerExtension(".hidden"), "");
}

TEST(FileTypes, ImagesAndArraysByExtensionInAnyCase) {
  for (const char* f : {"a.png", "a.PNG", "b.jpeg", "c.Jpg", "d.jpe", "e.bmp", "f.tif", "g.TIFF",
                        "h.webp", "i.pgm", "j.ppm", "k.pbm", "l.pnm", "m.hdr", "n.jp2", "o.ras"})
    EXPECT_TRUE(hasImageExtension(f)) << f;
  for (const char* f : {"a.gif", "a.exr", "a.npy", "a.onnx", "png", "a.png.txt", "a."})
    EXPECT_FALSE(hasImageExtension(f)) << f;
  EXPECT_TRUE(hasNpyExtension("x.npy"));
  EXPECT_TRUE(hasNpyExtension("dir/x.NPY"));
  EXPECT_FALSE(hasNpyExtension("x.npz"));
  EXPECT_FALSE(hasNpyExtension("npy"));
}

}  // namespace
}  // namespace zfvis
