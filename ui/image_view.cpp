#include "ui/image_view.h"

#include <algorithm>
#include <cmath>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

namespace zfvis::ui {

namespace {
constexpr double kZoomStep = 1.25;
constexpr double kMinScale = 0.05, kMaxScale = 64.0;
constexpr double kDragThreshold = 4.0;
}  // namespace

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::ClickFocus);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ImageView::setImage(const QImage& image, bool keepView) {
  const bool sameSize = image.size() == m_image.size();
  m_image = image;
  if (!keepView || !sameSize) m_fit = true;
  if (m_fit) applyFit();
  update();
}

void ImageView::clear(const QString& message) {
  m_image = {};
  m_marks.clear();
  m_message = message;
  update();
}

void ImageView::setMessage(const QString& message) {
  m_message = message;
  update();
}

void ImageView::setMarks(const QVector<Mark>& marks) {
  m_marks = marks;
  update();
}

void ImageView::setPixelated(bool pixelated) {
  m_pixelated = pixelated;
  if (m_fit) applyFit();
  update();
}

void ImageView::setMaxFitScale(double scale) {
  m_maxFitScale = std::max(0.1, scale);
  if (m_fit) applyFit();
  update();
}

void ImageView::applyFit() {
  if (m_image.isNull() || width() <= 0 || height() <= 0) return;
  const double margin = 4.0;
  double s = std::min((width() - 2 * margin) / m_image.width(),
                      (height() - 2 * margin) / m_image.height());
  s = std::min(s, m_maxFitScale);
  // Feature maps look best at whole multiples; keep the fractional scale only when rounding
  // down would shrink the picture by more than a quarter.
  if (m_pixelated && s >= 1.0 && std::floor(s) >= 0.75 * s) s = std::floor(s);
  m_scale = std::max(kMinScale, s);
  m_offset = QPointF((width() - m_image.width() * m_scale) / 2.0,
                     (height() - m_image.height() * m_scale) / 2.0);
  if (m_pixelated) m_offset = QPointF(std::round(m_offset.x()), std::round(m_offset.y()));
}

void ImageView::clampOffset() {
  // Keep at least a quarter of the widget covered by the image so it cannot be lost.
  const double w = m_image.width() * m_scale, h = m_image.height() * m_scale;
  const double keepX = std::min(w, width() / 4.0), keepY = std::min(h, height() / 4.0);
  m_offset.setX(std::clamp(m_offset.x(), keepX - w, width() - keepX));
  m_offset.setY(std::clamp(m_offset.y(), keepY - h, height() - keepY));
}

void ImageView::zoomToFit() {
  m_fit = true;
  applyFit();
  update();
}

void ImageView::zoomTo(double scale, QPointF anchor) {
  if (m_image.isNull()) return;
  scale = std::clamp(scale, kMinScale, kMaxScale);
  const QPointF imagePoint = widgetToImage(anchor);
  m_fit = false;
  m_scale = scale;
  m_offset = anchor - imagePoint * m_scale;
  clampOffset();
  update();
}

void ImageView::zoomIn() {
  zoomTo(m_scale * kZoomStep, rect().center());
}
void ImageView::zoomOut() {
  zoomTo(m_scale / kZoomStep, rect().center());
}
void ImageView::actualSize() {
  zoomTo(1.0, rect().center());
}

QPointF ImageView::widgetToImage(QPointF p) const {
  return (p - m_offset) / m_scale;
}
QPointF ImageView::imageToWidget(QPointF p) const {
  return p * m_scale + m_offset;
}

QPoint ImageView::pixelAt(QPointF widgetPos) const {
  if (m_image.isNull()) return {-1, -1};
  const QPointF ip = widgetToImage(widgetPos);
  const int x = static_cast<int>(std::floor(ip.x())), y = static_cast<int>(std::floor(ip.y()));
  if (x < 0 || y < 0 || x >= m_image.width() || y >= m_image.height()) return {-1, -1};
  return {x, y};
}

QSize ImageView::sizeHint() const {
  return {320, 240};
}
QSize ImageView::minimumSizeHint() const {
  return {120, 90};
}

void ImageView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Window).darker(160));
  if (m_image.isNull()) {
    if (!m_message.isEmpty()) {
      p.setPen(palette().color(QPalette::WindowText).lighter(100));
      p.setPen(QColor(220, 220, 220));
      p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap, m_message);
    }
    return;
  }
  p.setRenderHint(QPainter::SmoothPixmapTransform,
                  m_scale < 1.0 || (!m_pixelated && m_scale < 4.0));
  const QRectF target(m_offset, QSizeF(m_image.width() * m_scale, m_image.height() * m_scale));
  // Drawn straight from the QImage (no QPixmap conversion on the GUI thread); only the visible
  // part is transformed.
  p.drawImage(target, m_image, QRectF(m_image.rect()));
  if (!m_marks.isEmpty()) {
    p.setRenderHint(QPainter::Antialiasing, false);
    for (const Mark& m : m_marks) {
      const QRectF r(imageToWidget(m.rect.topLeft()), imageToWidget(m.rect.bottomRight()));
      p.setPen(QPen(QColor(0, 0, 0, 160), 4));
      p.drawRect(r.adjusted(-1, -1, 1, 1));
      p.setPen(QPen(m.color, 2));
      p.drawRect(r.adjusted(-1, -1, 1, 1));
    }
  }
}

void ImageView::resizeEvent(QResizeEvent*) {
  if (m_fit)
    applyFit();
  else
    clampOffset();
}

void ImageView::wheelEvent(QWheelEvent* event) {
  if (m_image.isNull()) return;
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0) return;
  zoomTo(m_scale * std::pow(kZoomStep, steps), event->position());
  event->accept();
}

void ImageView::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  m_pressed = true;
  m_dragging = false;
  m_pressPos = event->position();
  m_pressOffset = m_offset;
}

void ImageView::mouseMoveEvent(QMouseEvent* event) {
  if (m_pressed) {
    const QPointF d = event->position() - m_pressPos;
    if (!m_dragging && std::hypot(d.x(), d.y()) > kDragThreshold) {
      m_dragging = true;
      setCursor(Qt::ClosedHandCursor);
    }
    if (m_dragging && !m_image.isNull()) {
      m_fit = false;
      m_offset = m_pressOffset + d;
      clampOffset();
      update();
      return;
    }
  }
  emit hovered(pixelAt(event->position()), event->globalPosition().toPoint());
}

void ImageView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton || !m_pressed) return;
  m_pressed = false;
  if (m_dragging) {
    m_dragging = false;
    unsetCursor();
    return;
  }
  const QPoint px = pixelAt(event->position());
  if (px.x() >= 0) emit clicked(px);
}

void ImageView::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  if (m_doubleClickFits) zoomToFit();
  emit doubleClicked(pixelAt(event->position()));
}

void ImageView::leaveEvent(QEvent*) {
  emit hovered({-1, -1}, {});
}

void ImageView::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      zoomIn();
      break;
    case Qt::Key_Minus:
      zoomOut();
      break;
    case Qt::Key_0:
      zoomToFit();
      break;
    case Qt::Key_1:
      actualSize();
      break;
    default:
      QWidget::keyPressEvent(event);
      return;
  }
  event->accept();
}

}  // namespace zfvis::ui
