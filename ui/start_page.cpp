#include "ui/start_page.h"

#include <filesystem>

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QVBoxLayout>

#include "core/import/start_model.h"
#include "core/model/builtin_models.h"
#include "core/model/small_nets.h"
#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis::ui {

namespace {

QString shortName(const std::string& id) {
  if (id == "bvlc-alexnet") return QObject::tr("AlexNet");
  if (id == "zfnet512") return QObject::tr("ZFNet-512");
  return QString::fromStdString(id);
}

}  // namespace

StartPage::StartPage(std::shared_ptr<const ZooManifest> manifest, QWidget* parent)
    : QWidget(parent), m_manifest(std::move(manifest)) {
  setAcceptDrops(true);
  auto* title = new QLabel(tr("<h2>Look inside a convolutional network</h2>"
                              "<p>Open a model to see its activations, filters, deconvnet "
                              "projections and occlusion maps, as Zeiler &amp; Fergus did. Drop a "
                              "model file (.onnx, .h5) or an image anywhere on this window.</p>"),
                           this);
  title->setWordWrap(true);
  m_message = new QLabel(this);
  m_message->setWordWrap(true);
  m_message->setStyleSheet(
      "QLabel { background: #fff3b0; color: #5a4500; border: 1px solid #d8b800; padding: 4px; }");
  m_message->hide();

  auto* zoo = new QGroupBox(tr("Trained on ImageNet (ONNX Model Zoo, downloaded once)"), this);
  auto* zooLayout = new QVBoxLayout(zoo);
  for (const char* id : kStartPageZooIds) {
    auto* button = new QPushButton(this);
    button->setObjectName(QStringLiteral("fetch-%1").arg(QString::fromLatin1(id)));
    button->setProperty("zooId", QString::fromLatin1(id));
    connect(button, &QPushButton::clicked, this,
            [this, id] { emit fetchRequested(QString::fromLatin1(id)); });
    zooLayout->addWidget(button);
    m_fetch << button;
  }
  auto* zooNote = new QLabel(tr("Each is verified against its SHA-256; the download shows its "
                                "progress and can be cancelled. Model ▸ Model Zoo… lists "
                                "more."),
                             this);
  zooNote->setWordWrap(true);
  zooLayout->addWidget(zooNote);

  auto* files = new QGroupBox(tr("A model file"), this);
  auto* filesLayout = new QVBoxLayout(files);
  m_openFile = new QPushButton(tr("Open model file… (.onnx, Keras .h5)"), this);
  connect(m_openFile, &QPushButton::clicked, this, &StartPage::openFileDialogRequested);
  filesLayout->addWidget(m_openFile);
  filesLayout->addWidget(new QLabel(tr("Recent models:"), this));
  m_recent = new QListWidget(this);
  m_recent->setToolTip(tr("Double-click to open"));
  filesLayout->addWidget(m_recent, 1);
  connect(m_recent, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const QStringList parts = item->data(Qt::UserRole).toString().split(QLatin1Char('\n'));
    emit openModelRequested(parts.value(0), parts.value(1));
  });

  auto* builtin = new QGroupBox(tr("Built-in models (no download)"), this);
  auto* builtinLayout = new QVBoxLayout(builtin);
  m_builtins = new QListWidget(this);
  m_builtins->setToolTip(tr("Double-click to open"));
  m_builtins->setWordWrap(true);
  m_builtins->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  for (const BuiltinModelInfo& b : builtinModels()) {
    const bool trained = bool(shippedRunDir(b.name));
    auto* item = new QListWidgetItem(
        tr("%1 — %2").arg(QString::fromStdString(b.name),
                          trained ? tr("trained on Fashion-MNIST") : tr("untrained")),
        m_builtins);
    item->setData(Qt::UserRole, QString::fromStdString(b.name));
    item->setToolTip(QString::fromStdString(b.description));
    if (trained) {
      QFont f = item->font();
      f.setBold(true);
      item->setFont(f);
    }
  }
  connect(m_builtins, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    emit openModelRequested(item->data(Qt::UserRole).toString(), {});
  });
  builtinLayout->addWidget(m_builtins, 1);
  auto* builtinNote = new QLabel(tr("Untrained built-ins have random weights: they show the "
                                    "architecture, not learned features. To train one yourself: "
                                    "View ▸ Train (Ctrl+6); to watch a training run's "
                                    "checkpoints: View ▸ Evolution (Ctrl+7)."),
                                 this);
  builtinNote->setWordWrap(true);
  builtinLayout->addWidget(builtinNote);

  auto* columns = new QHBoxLayout;
  auto* left = new QVBoxLayout;
  left->addWidget(zoo);
  left->addWidget(files, 1);
  columns->addLayout(left, 1);
  columns->addWidget(builtin, 1);
  auto* inner = new QWidget(this);
  inner->setMaximumWidth(1000);
  auto* innerLayout = new QVBoxLayout(inner);
  innerLayout->addWidget(title);
  innerLayout->addWidget(m_message);
  innerLayout->addLayout(columns, 1);
  auto* outer = new QHBoxLayout(this);
  outer->addStretch();
  outer->addWidget(inner, 4);
  outer->addStretch();
  updateZooButtons();
}

void StartPage::setManifest(std::shared_ptr<const ZooManifest> manifest) {
  m_manifest = std::move(manifest);
  updateZooButtons();
}

void StartPage::setMessage(const QString& text) {
  m_message->setText(text);
  m_message->setVisible(!text.isEmpty());
}

QString StartPage::message() const {
  return m_message->text();
}

void StartPage::setRecentModels(const QStringList& entries) {
  m_recent->clear();
  for (const QString& entry : entries) {
    const QStringList parts = entry.split(QLatin1Char('\n'));
    const QString spec = parts.value(0), weights = parts.value(1);
    auto* item = new QListWidgetItem(
        weights.isEmpty() ? spec : tr("%1 + %2").arg(spec, QFileInfo(weights).fileName()),
        m_recent);
    item->setData(Qt::UserRole, entry);
    item->setToolTip(entry);
  }
  if (entries.isEmpty()) {
    auto* none = new QListWidgetItem(tr("(none yet)"), m_recent);
    none->setFlags(Qt::NoItemFlags);
  }
}

void StartPage::updateZooButtons() {
  std::filesystem::path cache;
  try {
    cache = zooCacheDir();
  } catch (const std::exception&) {
  }
  for (QPushButton* b : m_fetch) {
    const ZooModel* m =
        m_manifest ? m_manifest->find(b->property("zooId").toString().toStdString()) : nullptr;
    b->setVisible(m != nullptr);
    if (!m) continue;
    b->setToolTip(QString::fromStdString(m->title));
    std::error_code ec;
    const bool cached = !cache.empty() && std::filesystem::exists(zooModelPath(*m, cache), ec);
    const QString name = shortName(m->id);
    b->setText(
        cached
            ? tr("Open the trained %1 (downloaded)").arg(name)
            : tr("Fetch the trained %1 (%2 MB)").arg(name).arg(double(m->size) / 1e6, 0, 'f', 1));
  }
}

void StartPage::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void StartPage::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  emit filesDropped(paths);
}

QPushButton* StartPage::fetchButton(const QString& id) const {
  for (QPushButton* b : m_fetch)
    if (b->property("zooId").toString() == id) return b;
  return nullptr;
}

}  // namespace zfvis::ui
