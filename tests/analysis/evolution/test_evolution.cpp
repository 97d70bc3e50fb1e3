// Feature evolution (Zeiler & Fergus fig. 4; core/analysis/evolution) against independent
// references: each unit's strongest activation found by plain loops over the naive forward pass
// of every image (tests/reference/naive_ops.h), its projection by the naive back-projection
// (naive_projection.h); plus the image list order, unitResponse's tie and NaN rules, and the
// checks that refuse mixed architectures.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include <opencv2/imgcodecs.hpp>

#include "core/analysis/evolution/evolution.h"
#include "core/analysis/image_list.h"
#include "core/analysis/training/dataset.h"
#include "core/analysis/unit_response.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/import/model_loader.h"
#include "core/render/evolution_sheet.h"
#include "tests/reference/naive_ops.h"
#include "tests/reference/naive_projection.h"
#include "tests/reference/tolerance.h"

namespace zfvis {
namespace {

namespace fs = std::filesystem;

fs::path freshDir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("zfvis-evolution-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

TEST(UnitResponse, FirstMaximumInRowMajorOrderAndNaNNeverWins) {
  Tensor t(Shape{2, 3, 2, 3});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(i % 5);
  // Sample 1, channel 2: plane values, with a tie of 9 at (0, 2) and (1, 1).
  float* p = t.data() + (1 * 3 + 2) * 6;
  const float plane[6] = {1, std::nanf(""), 9, 3, 9, -2};
  std::copy(plane, plane + 6, p);
  const UnitResponse r = unitResponse(t, 1, 2);
  EXPECT_EQ(r.value, 9.0f);
  EXPECT_EQ(r.y, 0);
  EXPECT_EQ(r.x, 2);
  // Every plane against a plain scan.
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c) {
      const float* q = t.data() + (n * 3 + c) * 6;
      int best = -1;
      for (int i = 0; i < 6; ++i)
        if (!std::isnan(q[i]) && (best < 0 || q[i] > q[best])) best = i;
      const UnitResponse s = unitResponse(t, n, c);
      EXPECT_EQ(s.value, q[best]);
      EXPECT_EQ(s.y * 3 + s.x, best);
    }
  std::fill(p, p + 6, std::nanf(""));
  EXPECT_TRUE(std::isnan(unitResponse(t, 1, 2).value));
  // Vectors: position (0, 0).
  Tensor v(Shape{1, 4});
  v[0] = -1, v[1] = 5, v[2] = 5, v[3] = 2;
  EXPECT_EQ(unitResponse(v, 0, 1).value, 5.0f);
  EXPECT_THROW(unitResponse(v, 0, 4), Error);
  EXPECT_THROW(unitResponse(v, 1, 0), Error);
}

TEST(ImageList, FolderIsRecursiveAndSortedByRelativePathListKeepsItsOrder) {
  const fs::path d = freshDir("list");
  for (const char* f : {"b/2.png", "b/10.png", "a.JPG", "B.png", "notes.txt", "b/c/x.webp"})
    touch(d / f);
  std::vector<std::string> names;
  for (const ImageEntry& e : listImages(d)) names.push_back(e.name);
  // Byte order of the relative path: upper case first, "10" before "2".
  EXPECT_EQ(names,
            (std::vector<std::string>{"B.png", "a.JPG", "b/10.png", "b/2.png", "b/c/x.webp"}));

  std::ofstream(d / "list.txt") << "# chosen images\nb/2.png\n\n  a.JPG\r\n"
                                << (d / "B.png").string() << "\n";
  const std::vector<ImageEntry> list = listImages(d / "list.txt");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "b/2.png");
  EXPECT_EQ(list[0].path, d / "b/2.png");
  EXPECT_EQ(list[1].name, "a.JPG");
  EXPECT_EQ(list[2].path, d / "B.png");
  // One image file is a collection of one.
  ASSERT_EQ(listImages(d / "B.png").size(), 1u);

  fs::create_directories(d / "empty");
  EXPECT_THROW(listImages(d / "empty"), Error);
  EXPECT_THROW(listImages(d / "missing"), Error);
  std::ofstream(d / "comments.txt") << "# nothing\n\n";
  EXPECT_THROW(listImages(d / "comments.txt"), Error);
  fs::remove_all(d);
}

// A few Fashion-MNIST test images as PNG files, in a folder.
fs::path fashionImages(int count) {
  const fs::path d = freshDir("images");
  const Dataset data = loadDataset("fashion-mnist", {});
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "t%03d.png", i);
    cv::imwrite((d / name).string(), data.test.image(i * 37));
  }
  return d;
}

TEST(Evolution, ShippedRunsResolveToTheirCheckpointsInStepOrder) {
  const std::vector<EvolutionCheckpoint> c = resolveCheckpoints({"zf-small"});
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c.front().label(), "init");
  EXPECT_EQ(c.back().file.filename(), "final.onnx");
  for (size_t k = 1; k < c.size(); ++k) EXPECT_GT(*c[k].step, *c[k - 1].step);
  EXPECT_TRUE(c.back().testAccuracy.has_value());
  EXPECT_THROW(resolveCheckpoints({"no-such-run"}), Error);
  EXPECT_THROW(resolveCheckpoints({}), UsageError);
}

// Every unit of conv2 at every checkpoint: the image, position and value a plain search over the
// naive forward pass of each image finds, and the naive back-projection from there.
TEST(Evolution, StrongestActivationsAndProjectionsMatchNaiveReferences) {
  const fs::path dir = fashionImages(12);
  const std::vector<ImageEntry> images = listImages(dir);
  const std::vector<EvolutionCheckpoint> checkpoints = resolveCheckpoints({"zf-small"});
  EvolutionOptions options;
  options.units = {0, 3, 5, 17};
  options.batch = 5;  // batches of 5, 5, 2: the search spans batches
  const Evolution e = computeEvolution(checkpoints, "conv2", images, options);
  ASSERT_EQ(e.columns.size(), checkpoints.size());
  EXPECT_EQ(e.units, options.units);

  int decided = 0;  // units whose maximum is clear of the runner-up by more than the tolerance
  for (size_t k = 0; k < checkpoints.size(); ++k) {
    const NetworkDef def = loadModel(checkpoints[k].file.string());
    const size_t layer = def.resolveLayer("conv2");
    // The naive forward pass of every image; the tolerance is the forward chain's bound times
    // the layer's largest value (two float32 evaluations that differ only in summation order).
    std::vector<std::vector<Tensor>> outs;
    std::vector<Tensor> inputs;
    double maxAbs = 0;
    for (const ImageEntry& im : images) {
      inputs.push_back(loadNetworkInput(im.path, def.input));
      outs.push_back(ref::forward(def, inputs.back()));
      maxAbs = std::max(maxAbs, double(outs.back()[layer].maxAbs()));
    }
    const double tol = ref::chainTolerance(def, layer) * maxAbs;
    const EvolutionColumn& col = e.columns[k];
    ASSERT_EQ(col.units.size(), options.units.size());
    EXPECT_EQ(col.filtersLayer, "conv1");
    EXPECT_EQ(col.filters.shape(), def.layers[def.resolveLayer("conv1")].weights.shape());
    for (size_t u = 0; u < options.units.size(); ++u) {
      const int c = options.units[u];
      // Plain search: the largest value, the earliest image and first position on ties, and the
      // runner-up at another (image, position) to know when the order is decidable.
      double best = -std::numeric_limits<double>::infinity(), second = best;
      int bestImage = -1, bestY = 0, bestX = 0;
      for (size_t i = 0; i < images.size(); ++i) {
        const Tensor& o = outs[i][layer];
        const int64_t H = o.shape()[2], W = o.shape()[3];
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) {
            const double v = o.data()[(c * H + y) * W + x];
            if (v > best) {
              second = best;
              best = v;
              bestImage = int(i);
              bestY = int(y);
              bestX = int(x);
            } else if (v > second) {
              second = v;
            }
          }
      }
      const UnitMaximum& m = col.units[u];
      EXPECT_EQ(m.unit, c);
      EXPECT_NEAR(m.value, best, tol) << "checkpoint " << k << " unit " << c;
      if (best - second > 2 * tol) {
        ++decided;
        EXPECT_EQ(m.image, bestImage) << "checkpoint " << k << " unit " << c;
        EXPECT_EQ(m.position, cv::Point(bestX, bestY)) << "checkpoint " << k << " unit " << c;
      }
      ASSERT_GE(m.image, 0);
      // The projection from the chosen unit, by the naive back-projection over an engine run of
      // that image (the forward values it needs: ReLU masks, pool switches).
      auto net = CompiledNet::compile(std::make_shared<const NetworkDef>(def));
      Session session(net);
      auto acts = session.run(inputs[size_t(m.image)]);
      std::vector<Tensor> values;
      for (size_t i = 0; i < acts->layerCount(); ++i) values.push_back(acts->output(i));
      const Tensor want = ref::project(def, acts->input(), values, layer, c, m.position.y,
                                       m.position.x, ProjectionMode::Deconvnet);
      EXPECT_LE(ref::relativeMaxError(m.projection.image.reshaped(want.shape()), want),
                ref::projectionTolerance(def, layer))
          << "checkpoint " << k << " unit " << c;
      EXPECT_EQ(m.input.rows, 28);
    }
  }
  // The image and position checks ran for (nearly) every unit, not only the value.
  EXPECT_GE(decided, int(checkpoints.size() * options.units.size()) - 2);
  // The picture: a column per checkpoint, a row per unit, the filters under them.
  const cv::Mat sheet = renderEvolutionSheet(e);
  EXPECT_GT(sheet.cols, int(checkpoints.size()) * 96);
  EXPECT_GT(sheet.rows, int(options.units.size()) * 96);
  fs::remove_all(dir);
}

// The in-memory overload (what the GUI uses: a dataset's images loaded once) finds the same
// maxima and projections as the file overload on the same images, and refuses a wrong shape;
// renderEvolutionUnitGrid draws such a column as the GUI shows it.
TEST(Evolution, InMemoryInputsMatchTheFileOverloadAndDrawAsAUnitGrid) {
  const fs::path dir = fashionImages(7);
  const std::vector<ImageEntry> images = listImages(dir);
  const EvolutionCheckpoint checkpoint = resolveCheckpoints({"zf-small"}).back();
  const NetworkDef def = loadModel(checkpoint.file.string());
  const size_t layer = def.resolveLayer("conv2");
  EvolutionOptions options;
  options.batch = 3;
  const std::vector<int> units = evolutionUnits(def, layer, options);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < images.size(); ++i) {
    Tensor t = loadNetworkInput(images[i].path, def.input);
    // Both accepted shapes: C x H x W and 1 x C x H x W.
    if (i % 2 == 0) t = t.reshaped(def.input.shape);
    inputs.push_back(std::move(t));
  }
  const EvolutionColumn a = evolveCheckpoint(def, checkpoint, layer, units, images, options);
  const EvolutionColumn b = evolveCheckpoint(def, checkpoint, layer, units, inputs, options);
  ASSERT_EQ(a.units.size(), 8u);
  ASSERT_EQ(b.units.size(), a.units.size());
  EXPECT_EQ(b.filtersLayer, a.filtersLayer);
  EXPECT_EQ(b.checkpoint.step, a.checkpoint.step);
  for (size_t u = 0; u < a.units.size(); ++u) {
    EXPECT_EQ(b.units[u].unit, a.units[u].unit);
    EXPECT_EQ(b.units[u].image, a.units[u].image);
    EXPECT_EQ(b.units[u].position, a.units[u].position);
    EXPECT_EQ(b.units[u].value, a.units[u].value);
    const Tensor &pa = a.units[u].projection.image, &pb = b.units[u].projection.image;
    ASSERT_EQ(pb.shape(), pa.shape());
    EXPECT_TRUE(std::equal(pa.data(), pa.data() + pa.numel(), pb.data())) << "unit " << u;
  }
  // The column as a grid of units (what the GUI shows): 4 per row, each cell exactly
  // renderEvolutionCell at the grid's scale, under its label; hit-testing finds each one.
  EvolutionSheetOptions sheet;
  sheet.withPatch = true;
  UnitGridLayout layout;
  const cv::Mat grid = renderEvolutionUnitGrid(b, def.input.preprocess, sheet, 4, &layout);
  ASSERT_EQ(layout.cells.size(), 8u);
  EXPECT_GE(layout.scale, 1);
  for (size_t u = 0; u < 8; ++u) {
    const cv::Rect& r = layout.cells[u];
    EXPECT_EQ(r.y, layout.cells[u < 4 ? 0 : 4].y) << "unit " << u;
    ASSERT_TRUE((r & cv::Rect(0, 0, grid.cols, grid.rows)) == r) << "unit " << u;
    const cv::Mat want =
        renderEvolutionCell(b.units[u], def.input.preprocess, layout.scale, sheet.withPatch);
    ASSERT_EQ(r.size(), want.size()) << "unit " << u;
    EXPECT_EQ(cv::norm(grid(r), want, cv::NORM_INF), 0) << "unit " << u;
    EXPECT_EQ(layout.unitAt((r.tl() + r.br()) / 2), int(u));
  }
  EXPECT_GT(layout.cells[4].y, layout.cells[0].y);
  EXPECT_EQ(layout.cells[3].y, layout.cells[0].y);
  EXPECT_EQ(layout.unitAt({grid.cols + 5, 0}), -1);

  std::vector<Tensor> wrong = {Tensor(Shape{3, 28, 28})};
  EXPECT_THROW(evolveCheckpoint(def, checkpoint, layer, units, wrong, options), Error);
  EXPECT_THROW(evolveCheckpoint(def, checkpoint, layer, units, std::vector<Tensor>{}, options),
               UsageError);
  fs::remove_all(dir);
}

TEST(Evolution, RefusesMixedArchitecturesUnitsOutOfRangeAndUnreadableImages) {
  const fs::path dir = fashionImages(3);
  const std::vector<ImageEntry> images = listImages(dir);
  const fs::path alexFinal = resolveCheckpoints({"alex-small"}).back().file;
  std::vector<EvolutionCheckpoint> mixed = resolveCheckpoints({"zf-small"});
  mixed.push_back({alexFinal, std::nullopt, std::nullopt, std::nullopt});
  try {
    computeEvolution(mixed, "conv2", images, {});
    ADD_FAILURE() << "mixed architectures accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(alexFinal.string()), std::string::npos) << e.what();
  }
  EvolutionOptions o;
  o.units = {10000};
  EXPECT_THROW(computeEvolution(resolveCheckpoints({"zf-small"}), "conv2", images, o), Error);
  EXPECT_THROW(computeEvolution(resolveCheckpoints({"zf-small"}), "no-layer", images, {}), Error);
  std::ofstream(dir / "t999.png") << "not a png";
  try {
    computeEvolution(resolveCheckpoints({"zf-small"}), "conv2", listImages(dir), {});
    ADD_FAILURE() << "unreadable image accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t999.png"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zfvis
