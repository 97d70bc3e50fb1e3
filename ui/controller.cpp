#include "ui/controller.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <QFileInfo>

#include "core/analysis/predictions.h"
#include "core/analysis/unit_response.h"
#include "core/base/error.h"
#include "core/base/file_types.h"
#include "core/base/labels.h"
#include "core/base/npy.h"
#include "core/import/model_loader.h"
#include "core/model/image_input.h"

namespace zfvis::ui {

namespace {

struct OpenedModel {
  std::shared_ptr<const CompiledNet> net;
  int layer = -1;
};

}  // namespace

Controller::Controller(AppState* state, JobTracker* jobs, QObject* parent)
    : QObject(parent), m_state(state), m_jobs(jobs) {}

bool Controller::isModelFile(const QString& fileName) {
  return hasModelExtension(toPath(fileName));
}

bool Controller::isImageFile(const QString& fileName) {
  return hasInputExtension(toPath(fileName));
}

void Controller::openModel(const QString& spec, const QString& weights, const QString& layer) {
  const std::string s = spec.toStdString(), w = weights.toStdString(), l = layer.toStdString();
  const QString title = tr("Opening model %1").arg(QFileInfo(spec).fileName());
  m_jobs->start(
      kModelJob, title,
      [s, w, l](ProgressSink&) {
        OpenedModel out;
        auto def = std::make_shared<const NetworkDef>(loadModel(s, w));
        if (!l.empty()) out.layer = static_cast<int>(def->resolveLayer(l));
        // Primitives are built by the first forward run, on the engine thread (see Lane).
        out.net = CompiledNet::compile(def);
        return out;
      },
      [this, spec, weights](OpenedModel m) {
        m_state->setModel(m.net, spec, weights, m.layer);
        emit modelOpened(spec, weights);
        runForward();
      });
}

void Controller::openImage(const QString& path, std::optional<Selection> select) {
  const std::filesystem::path p = toPath(path);
  const bool isTensor = hasNpyExtension(p);
  m_jobs->start(
      kImageJob, tr("Opening image %1").arg(QFileInfo(path).fileName()),
      [p, isTensor](ProgressSink&) {
        if (!isTensor) return loadImageBgr(p);
        // A .npy input is read again by every forward run (its shape is checked against the
        // model there); here only make sure it is a readable float tensor.
        readNpy(p);
        return cv::Mat();
      },
      [this, path, isTensor, select](cv::Mat image) {
        InputSource src;
        src.name = QFileInfo(path).fileName();
        src.path = path;
        src.image = image;
        src.isTensor = isTensor;
        m_state->setSource(std::move(src));
        if (select) m_state->select(select->layer, select->channel, select->position);
        emit imageOpened(path);
        runForward();
      });
}

void Controller::setImage(const cv::Mat& bgr, const QString& name) {
  if (bgr.empty()) return;
  InputSource src;
  src.name = name;
  src.image = bgr.clone();
  m_jobs->cancel(kImageJob);
  m_state->setSource(std::move(src));
  runForward();
}

void Controller::setPreset(std::optional<Preprocess> preset) {
  if (preset == m_state->presetOverride()) return;
  m_state->setPresetOverride(preset);
  runForward();
}

void Controller::runForward() {
  auto net = m_state->net();
  const InputSource src = m_state->source();
  if (!net || src.empty()) {
    m_jobs->cancel(kForwardJob);
    return;
  }
  // A model or image still opening will run the forward pass when it arrives; running now would
  // pair the new half with the old one (and may fail on a shape that is about to change).
  if (m_jobs->isBusy(kModelJob) || m_jobs->isBusy(kImageJob)) {
    m_jobs->cancel(kForwardJob);
    return;
  }
  const Preprocess preset = m_state->preset();
  const quint64 generation = m_state->inputGeneration();
  const std::filesystem::path npyPath = toPath(src.path);
  m_jobs->start(
      kForwardJob, tr("Running %1").arg(QString::fromStdString(net->def().name)),
      [net, src, preset, generation, npyPath](ProgressSink& sink) {
        const NetworkDef& def = net->def();
        auto r = std::make_shared<ForwardResult>();
        r->preset = preset;
        r->generation = generation;
        InputSpec spec = def.input;
        spec.preprocess = preset;
        Tensor input;
        if (src.isTensor) {
          input = loadNetworkInput(npyPath, spec);
          const int64_t c = spec.shape.rank() == 3 ? spec.shape[0] : 0;
          if (c == 1 || c == 3) r->inputView = tensorToImage(input, preset);
        } else {
          NetworkImage image = imageAsNetworkInput(src.image, spec, npyPath.string());
          r->inputView = std::move(image.view);
          input = std::move(image.tensor);
        }
        net->plan(1, false);  // built once per model (weights reordered), not part of the timing
        Session session(net);
        RunOptions ro;
        ro.keepAll = true;
        ro.progress = &sink;
        const auto t0 = std::chrono::steady_clock::now();
        r->activations = session.run(input, ro);
        const Tensor& out = r->activations->finalOutput();
        r->milliseconds =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        r->classes = static_cast<int>(out.numel() / std::max<int64_t>(1, out.shape()[0]));
        r->top = topPredictions(def, out, 5);
        for (size_t i = 0; i < r->activations->layerCount(); ++i)
          r->strongest.push_back(strongestChannel(r->activations->output(i)));
        return std::shared_ptr<const ForwardResult>(std::move(r));
      },
      [this](std::shared_ptr<const ForwardResult> r) { m_state->setForward(std::move(r)); }, {},
      Lane::Engine);
}

std::vector<Prediction> topPredictions(const NetworkDef& def, const Tensor& output, int k) {
  if (output.empty() || output.shape().rank() == 0) return {};
  const std::vector<float> p = classProbabilities(def, output);
  const std::vector<int> order = topClasses(p, k);
  k = static_cast<int>(order.size());
  std::vector<Prediction> top;
  for (int i = 0; i < k; ++i) {
    const int c = order[size_t(i)];
    top.push_back(
        {c, p[size_t(c)],
         QString::fromStdString(classDisplayName(c, static_cast<int>(p.size()), def.classNames))});
  }
  return top;
}

}  // namespace zfvis::ui
