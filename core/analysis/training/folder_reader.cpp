// Class folders: DIR/<class>/<image> (or DIR/train/<class>/... and DIR/test/<class>/...), class
// names from the sorted subfolder names, images sorted by name, each decoded once and resized and
// cropped to the model input as core's image input does.
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "core/analysis/training/dataset_readers.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/model/image_input.h"

namespace zfvis::datasets {

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> sortedEntries(const fs::path& dir, bool directories) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (directories ? e.is_directory() : (e.is_regular_file() && hasImageExtension(e.path())))
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void addImage(const fs::path& file, int label, const Shape& shape, ImageSet& set) {
  cv::Mat img = resizeAndCrop(loadImageBgr(file), int(shape[1]), int(shape[2]));
  if (shape[0] == 1) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
  const size_t bytes = img.total() * img.elemSize();
  const size_t at = set.pixels.size();
  set.pixels.resize(at + bytes);
  std::copy(img.data, img.data + bytes, set.pixels.begin() + std::ptrdiff_t(at));
  set.labels.push_back(label);
}

ImageSet emptySet(const Shape& shape) {
  ImageSet s;
  s.channels = int(shape[0]);
  s.height = int(shape[1]);
  s.width = int(shape[2]);
  return s;
}

}  // namespace

Dataset loadImageFolder(const fs::path& dir, const Shape& shape) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("cannot read image folder '" + dir.string() + "': no such folder");
  Dataset d;
  d.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  d.train = emptySet(shape);
  d.test = emptySet(shape);
  const bool split = fs::is_directory(dir / "train", ec) && fs::is_directory(dir / "test", ec);
  const fs::path trainDir = split ? dir / "train" : dir;
  const std::vector<fs::path> classes = sortedEntries(trainDir, true);
  if (classes.size() < 2)
    throw Error("image folder '" + trainDir.string() +
                "' needs at least two class subfolders, has " + std::to_string(classes.size()));
  for (size_t c = 0; c < classes.size(); ++c) {
    d.classNames.push_back(classes[c].filename().string());
    const std::vector<fs::path> files = sortedEntries(classes[c], false);
    if (files.empty()) throw Error("class folder '" + classes[c].string() + "' has no images");
    for (size_t k = 0; k < files.size(); ++k)
      // Without train/ and test/, every 10th image of a class is held out for testing.
      addImage(files[k], int(c), shape, !split && k % 10 == 9 ? d.test : d.train);
  }
  if (split) {
    for (const fs::path& sub : sortedEntries(dir / "test", true)) {
      auto it = std::find(d.classNames.begin(), d.classNames.end(), sub.filename().string());
      if (it == d.classNames.end())
        throw Error("test class folder '" + sub.string() + "' has no training folder in '" +
                    trainDir.string() + "'");
      for (const fs::path& f : sortedEntries(sub, false))
        addImage(f, int(it - d.classNames.begin()), shape, d.test);
    }
  }
  return d;
}

}  // namespace zfvis::datasets
