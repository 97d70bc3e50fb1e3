#include "ui/views/compare_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

#include "core/base/file_types.h"
#include "core/import/model_loader.h"
#include "core/model/builtin_models.h"
#include "core/render/compare_picture.h"
#include "ui/convert.h"
#include "ui/file_dialogs.h"
#include "ui/image_view.h"
#include "ui/settings.h"

namespace zfvis::ui {

namespace {
const QString kOpenModel;  // the spec that stands for the model open in the window
}

CompareView::CompareView(AppState* state, JobTracker* jobs, QWidget* parent)
    : ViewBase(state, jobs, parent) {
  m_view = new ImageView(this);
  m_view->setMaxFitScale(2.0);
  m_view->setMessage(tr("Open a model to compare its first-layer filters."));
  auto* bar = new QHBoxLayout;
  const char* names[2] = {"A:", "B:"};
  for (int i = 0; i < 2; ++i) {
    m_side[i] = new QComboBox(this);
    m_side[i]->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_side[i]->setMinimumContentsLength(18);
    fillChoices(m_side[i]);
    auto* browseButton = new QPushButton(tr("…"), this);
    browseButton->setToolTip(tr("Compare with a model file (.onnx, .h5) or a .npy filter bank"));
    browseButton->setMaximumWidth(32);
    connect(browseButton, &QPushButton::clicked, this, [this, i] { browse(i); });
    connect(m_side[i], &QComboBox::activated, this, [this, i] {
      if (i == 1) m_userChoseB = true;
      invalidate();
    });
    bar->addWidget(new QLabel(tr(names[i]), this));
    bar->addWidget(m_side[i]);
    bar->addWidget(browseButton);
    bar->addSpacing(8);
  }
  m_normalization = new QComboBox(this);
  m_normalization->addItem(tr("Per layer (one scale)"), int(FilterNormalization::PerLayer));
  m_normalization->addItem(tr("RMS (one scale)"), int(FilterNormalization::Rms));
  m_normalization->addItem(tr("Per filter"), int(FilterNormalization::PerFilter));
  m_normalization->setCurrentIndex(Settings::viewOption("compare/normalization", 0).toInt());
  m_spectrum = new QCheckBox(tr("Spectrum plot"), this);
  m_spectrum->setChecked(Settings::viewOption("compare/spectrum", true).toBool());
  m_info = new QLabel(this);
  m_info->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_info->setWordWrap(true);  // never cut: long layer names and values wrap
  bar->addStretch(1);
  auto* bar2 = new QHBoxLayout;
  bar2->addWidget(new QLabel(tr("Normalise:"), this));
  bar2->addWidget(m_normalization);
  bar2->addWidget(m_spectrum);
  bar2->addSpacing(8);
  bar2->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(bar);
  layout->addLayout(bar2);
  layout->addWidget(m_info);  // its own row: the whole text, wrapped when narrow
  layout->addWidget(m_view, 1);
  pickDefaultB();

  auto optionsChanged = [this] {
    Settings::setViewOption("compare/normalization", m_normalization->currentIndex());
    Settings::setViewOption("compare/spectrum", m_spectrum->isChecked());
    invalidate();
  };
  connect(m_normalization, &QComboBox::currentIndexChanged, this, optionsChanged);
  connect(m_spectrum, &QCheckBox::toggled, this, optionsChanged);
  connect(m_state, &AppState::modelChanged, this, [this] {
    m_banks.remove(kOpenModel);
    const NetworkDef* def = m_state->def();
    m_side[0]->setItemText(
        0, def ? tr("Open model (%1)").arg(QString::fromStdString(def->name)) : tr("Open model"));
    if (!m_userChoseB) pickDefaultB();
    m_jobs->cancel(kJob);
    invalidate();
  });
}

void CompareView::fillChoices(QComboBox* box) {
  box->addItem(tr("Open model"), kOpenModel);
  for (const BuiltinModelInfo& m : builtinModels())
    box->addItem(QString::fromStdString(m.name), QString::fromStdString(m.name));
}

void CompareView::pickDefaultB() {
  // The paper's comparison: AlexNet against ZFNet. B is whichever of the two the open model is not.
  const NetworkDef* def = m_state->def();
  const QString name = def ? QString::fromStdString(def->name).toLower() : QString();
  const QString other = name.contains("zf") ? "caffe-alexnet" : "zfnet-paper";
  const int index = m_side[1]->findData(other);
  if (index >= 0) m_side[1]->setCurrentIndex(index);
}

void CompareView::setSide(int side, const QString& spec) {
  QComboBox* box = m_side[side];
  int index = box->findData(spec);
  if (index < 0) {
    box->addItem(QFileInfo(spec).fileName(), spec);
    index = box->count() - 1;
  }
  box->setCurrentIndex(index);
  if (side == 1) m_userChoseB = true;
  invalidate();
}

QString CompareView::side(int side) const {
  return m_side[side]->currentData().toString();
}

void CompareView::browse(int side) {
  askOpenFile(this, tr("Compare With"), QStringLiteral("model"),
              tr("Models and filter banks (*.onnx *.h5 *.hdf5 *.keras *.npy);;All files (*)"),
              [this, side](const QString& file) { setSide(side, file); });
}

void CompareView::refresh() {
  auto net = m_state->net();
  QStringList specs = {side(0), side(1)};
  if (!net && (specs[0] == kOpenModel || specs[1] == kOpenModel)) {
    m_picture.reset();
    m_view->clear(tr("Open a model to compare its first-layer filters."));
    return;
  }
  std::vector<std::shared_ptr<const FilterBank>> cached;
  for (const QString& s : specs) cached.push_back(m_banks.value(s));
  CompareViewOptions vo;
  vo.normalization = static_cast<FilterNormalization>(m_normalization->currentData().toInt());
  vo.spectrumPlot = m_spectrum->isChecked();
  if (!m_picture) m_view->setMessage(tr("Comparing…"));
  std::vector<std::string> stdSpecs;
  for (const QString& s : specs) stdSpecs.push_back(s.toStdString());
  m_jobs->start(
      kJob, tr("Comparing first-layer filters"),
      [net, stdSpecs, cached, vo, specs](ProgressSink& sink) {
        auto pic = std::make_shared<ComparePicture>();
        pic->specs = specs;
        pic->options = vo;
        for (size_t i = 0; i < stdSpecs.size(); ++i) {
          reportProgress(&sink, int64_t(i), int64_t(stdSpecs.size()) + 1);
          if (cached[i]) {
            pic->banks.push_back(cached[i]);
            continue;
          }
          const std::string& spec = stdSpecs[i];
          if (spec.empty()) {
            pic->banks.push_back(std::make_shared<const FilterBank>(
                convFilterBank(net->def(), firstConvLayer(net->def()))));
          } else if (hasNpyExtension(spec)) {
            pic->banks.push_back(std::make_shared<const FilterBank>(readFilterBankNpy(spec)));
          } else {
            const NetworkDef def = loadModel(spec);
            pic->banks.push_back(
                std::make_shared<const FilterBank>(convFilterBank(def, firstConvLayer(def))));
          }
        }
        for (const auto& b : pic->banks)
          pic->statsOptions.spectrumSize =
              std::max({pic->statsOptions.spectrumSize, b->kernelH(), b->kernelW()});
        std::vector<CompareSide> sides;
        for (const auto& b : pic->banks) {
          CompareSide s;
          s.bank = *b;
          s.stats = computeFilterBankStats(b->weights, pic->statsOptions);
          pic->stats.push_back(s.stats);
          sides.push_back(std::move(s));
        }
        pic->bgr = renderCompareView(sides, vo);
        pic->image = toQImage(pic->bgr);
        return std::shared_ptr<const ComparePicture>(std::move(pic));
      },
      [this](std::shared_ptr<const ComparePicture> pic) {
        for (int i = 0; i < pic->specs.size(); ++i)
          m_banks.insert(pic->specs[i], pic->banks[size_t(i)]);
        const bool sameSize = m_picture && m_picture->image.size() == pic->image.size();
        m_picture = std::move(pic);
        m_view->setImage(m_picture->image, sameSize);
        m_info->setText(tr("%1 vs %2")
                            .arg(QString::fromStdString(compareTitle(*m_picture->banks[0])),
                                 QString::fromStdString(compareTitle(*m_picture->banks[1]))));
        m_info->setToolTip(m_info->text());
      },
      [this](const QString& message) {
        m_picture.reset();
        m_info->clear();
        m_view->clear(message);
      });
}

std::optional<ViewExport> CompareView::exportView() const {
  if (!m_picture) return std::nullopt;
  ViewExport e;
  e.image = m_picture->bgr;
  std::string models, layers;
  bool untrained = false;
  nlohmann::ordered_json json = {
      {"definitions", filterStatsDefinitionsJson(m_picture->statsOptions)},
      {"models", nlohmann::ordered_json::array()}};
  const char* suffixes[2] = {"-a", "-b"};
  for (size_t i = 0; i < m_picture->banks.size(); ++i) {
    const FilterBank& b = *m_picture->banks[i];
    models += (models.empty() ? "" : "; ") + b.model;
    layers += (layers.empty() ? "" : "; ") + (b.layer.empty() ? "-" : b.layer);
    untrained = untrained || b.untrained;
    nlohmann::ordered_json j = {
        {"name", b.model}, {"source", b.source}, {"layer", b.layer}, {"untrained", b.untrained}};
    const nlohmann::ordered_json stats = toJson(m_picture->stats[i]);
    for (const auto& [k, v] : stats.items()) j[k] = v;
    json["models"].push_back(j);
    if (i < 2) e.arrays.push_back({suffixes[i], b.weights});
  }
  e.text = pictureText("compare", models, untrained, {}, layers);
  e.text.push_back({"zfvis:normalization",
                    std::string(filterNormalizationName(m_picture->options.normalization))});
  e.texts.push_back({"-stats.json", json.dump(2) + "\n"});
  e.stem = "compare-conv1";
  return e;
}

}  // namespace zfvis::ui
