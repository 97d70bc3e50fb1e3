#include "ui/zoo_dialog.h"

#include <filesystem>

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/zoo/zoo_cache.h"
#include "core/zoo/zoo_manifest.h"

namespace zfvis::ui {

ZooDialog::ZooDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Fetch from Model Zoo"));
  const ZooManifest& manifest = embeddedZooManifest();
  std::filesystem::path cache;
  QString cacheText;
  try {
    cache = zooCacheDir();
    cacheText = tr("Cache: %1").arg(QString::fromStdString(cache.string()));
  } catch (const std::exception& e) {
    cacheText = QString::fromUtf8(e.what());
  }
  // The manifest's "about" is written for the project's developers; users get this.
  auto* about =
      new QLabel(tr("Pretrained ImageNet models from the ONNX Model Zoo (github.com/onnx/models). "
                    "Each file is "
                    "downloaded once, checked against the size and SHA-256 digest recorded in that "
                    "repository, and kept in the cache folder below for later sessions."),
                 this);
  about->setWordWrap(true);
  m_table = new QTableWidget(int(manifest.models.size()), 6, this);
  m_table->setHorizontalHeaderLabels(
      {tr("Model"), tr("Description"), tr("Size"), tr("Top-1"), tr("Licence"), tr("Status")});
  m_table->verticalHeader()->hide();
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->setWordWrap(false);
  for (int r = 0; r < int(manifest.models.size()); ++r) {
    const ZooModel& m = manifest.models[size_t(r)];
    std::error_code ec;
    const bool cached = !cache.empty() && std::filesystem::exists(zooModelPath(m, cache), ec);
    auto set = [&](int c, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      if (c == 2 || c == 3) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      m_table->setItem(r, c, item);
    };
    set(0, QString::fromStdString(m.id));
    set(1, QString::fromStdString(m.title));
    set(2, tr("%1 MB").arg(double(m.size) / 1e6, 0, 'f', 1));
    set(3, m.top1 ? tr("%1 %").arg(*m.top1, 0, 'f', 1) : QString());
    set(4, QString::fromStdString(m.license));
    set(5, cached ? tr("downloaded") : QString());
  }
  m_table->resizeColumnsToContents();
  m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  m_fetch = buttons->addButton(tr("Fetch and Open"), QDialogButtonBox::AcceptRole);
  m_fetch->setEnabled(false);
  connect(m_table, &QTableWidget::itemSelectionChanged, this,
          [this] { m_fetch->setEnabled(!selectedId().isEmpty()); });
  connect(m_table, &QTableWidget::cellDoubleClicked, this, [this] { m_fetch->click(); });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    const QString id = selectedId();
    if (id.isEmpty()) return;
    accept();
    emit fetchRequested(id);
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(about);
  layout->addWidget(m_table, 1);
  layout->addWidget(new QLabel(cacheText, this));
  layout->addWidget(buttons);
  resize(900, 360);
}

QString ZooDialog::selectedId() const {
  const auto rows = m_table->selectionModel()->selectedRows();
  if (rows.isEmpty()) return {};
  return m_table->item(rows.first().row(), 0)->text();
}

}  // namespace zfvis::ui
