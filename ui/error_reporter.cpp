#include "ui/error_reporter.h"

#include <QMessageBox>

namespace zfvis::ui {

void DialogErrorReporter::showError(const QString& title, const QString& message) {
  if (m_box) m_box->close();
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, m_parent);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setTextInteractionFlags(Qt::TextSelectableByMouse);
  box->open();
  m_box = box;
}

}  // namespace zfvis::ui
