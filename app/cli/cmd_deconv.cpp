// zfvis-cli deconv: project activations back to pixel space (deconvnet, guided, saliency).
#include <cstdio>

#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "core/analysis/projector/projector.h"
#include "core/base/error.h"
#include "core/base/npy.h"
#include "core/base/position_text.h"
#include "core/model/image_input.h"
#include "core/render/png.h"
#include "core/render/projection_picture.h"

namespace zfvis::cli {

int runDeconv(const ArgList& argv) {
  Args args(argv,
            withOptions(runOptions(), {{"layer"},
                                       {"channel"},
                                       {"position"},
                                       {"mode"},
                                       {"top"},
                                       {"npy"},
                                       {"png"},
                                       {"lrn"},
                                       {"no-crop", false}}),
            "deconv");
  auto def = openModel(args);
  const size_t layer = resolveLayerArg(args, *def);
  const ProjectionMode mode = parseProjectionMode(args.value("mode").value_or("deconvnet"));
  LrnBackward lrn = LrnBackward::Gradient;
  if (auto v = args.value("lrn")) {
    if (*v == "pass")
      lrn = LrnBackward::Pass;
    else if (*v != "gradient")
      throw UsageError("--lrn expects gradient or pass, got '" + *v + "'");
  }
  const int top = args.intValue("top", 0, 1, 100000);
  if (top && (args.has("channel") || args.has("position")))
    throw UsageError(
        "--top projects each channel from its own maximum; it cannot be "
        "combined with --channel or --position");
  const int channel = args.intValue("channel", -1, 0, 1 << 30);
  std::optional<cv::Point> position;
  if (auto yx = args.intTuple("position", 2, 0, 1 << 30, "Y,X (e.g. 6,7)"); !yx.empty())
    position = cv::Point(yx[1], yx[0]);
  // Channel and position are checked against the layer before the image is read and run.
  const Shape shape = def->outputShapes()[layer];
  const std::string layerName = "layer '" + def->layers[layer].name + "'";
  if (channel >= 0 && shape.rank() > 0)
    requireIndex("channel", channel, shape[0], layerName, "channels");
  if (position && shape.rank() == 3) {
    requireIndex("position", position->y, shape[1], layerName + " (" + shape.str() + ")", "rows");
    requireIndex("position", position->x, shape[2], layerName + " (" + shape.str() + ")",
                 "columns");
  }

  checkOutputs(args, {"npy", "png"});
  Tensor input = openInput(args, *def);
  auto net = compileModel(args, def);
  Session session(net);
  Projector projector(session.run(input));

  std::vector<Projection> ps;
  if (top) {
    ps = projector.projectChannels(layer, projector.topChannels(layer, top), mode, lrn);
  } else {
    ProjectionRequest r;
    r.layer = layer;
    r.channel = channel;
    r.position = position;
    r.mode = mode;
    r.lrn = lrn;
    ps.push_back(projector.project(r));
  }
  const LayerSpec& l = def->layers[layer];
  for (const Projection& p : ps)
    std::printf(
        "%s (%s) channel %d at %s: activation %g, receptive field y %d..%d x %d..%d, "
        "%s%s\n",
        l.name.c_str(), std::string(onnxOpName(l.type)).c_str(), p.channel,
        positionText(p.position.y, p.position.x).c_str(), double(p.activation), p.field.y,
        p.field.y + p.field.height - 1, p.field.x, p.field.x + p.field.width - 1,
        projectionModeName(mode), def->untrained ? " [untrained weights]" : "");
  if (auto npy = args.value("npy")) {
    std::vector<Tensor> images;
    for (const Projection& p : ps)
      images.push_back(p.image.reshaped(def->input.shape.withBatch(1)));
    Tensor out = Tensor::stack(images);
    if (!top) out.reshape(def->input.shape);
    writeNpy(*npy, out);
  }
  if (auto png = args.value("png")) {
    InputSpec spec = def->input;
    if (auto p = args.value("preprocess")) spec.preprocess = parsePreprocess(*p);
    cv::Mat view = tensorToImage(input, spec.preprocess);
    std::vector<std::string> names;
    for (const LayerSpec& s : def->layers) names.push_back(s.name);
    ProjectionViewOptions o;
    o.crop = !args.has("no-crop");
    cv::Mat img = top ? renderProjectionGrid(ps, view, spec.preprocess, names, o)
                      : renderProjectionView(ps[0], view, spec.preprocess, names, o);
    PngText text =
        pictureText("projection", def->name, def->untrained, args.required("image"), l.name);
    text.insert(text.end(), {{"zfvis:mode", projectionModeName(mode)},
                             {"zfvis:lrn", lrn == LrnBackward::Pass ? "pass" : "gradient"},
                             {"zfvis:normalization", "symmetric, zero = mid-grey"},
                             {"zfvis:crop", o.crop ? "receptive field" : "none"}});
    writePng(*png, img, text);
  }
  return 0;
}

}  // namespace zfvis::cli
