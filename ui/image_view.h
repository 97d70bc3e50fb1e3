// A zoomable, pannable image display with hit-testing: wheel zooms around the cursor, dragging
// pans, a click (without drag) reports the image pixel, hovering reports the pixel under the
// cursor, double-click fits the image. Optional marks (rectangles in image pixels) are drawn on
// top, and a message is shown when there is no image ("Computing...").
#pragma once

#include <QColor>
#include <QImage>
#include <QRectF>
#include <QString>
#include <QVector>
#include <QWidget>

namespace zfvis::ui {

class ImageView : public QWidget {
  Q_OBJECT
 public:
  /// A rectangle drawn over the image.
  struct Mark {
    QRectF rect;   // in image pixels
    QColor color;  // outline colour
  };

  explicit ImageView(QWidget* parent = nullptr);

  /// Shows `image`; the view is re-fitted unless `keepView` (same size, e.g. a colormap change).
  void setImage(const QImage& image, bool keepView = false);
  /// The image shown (null when none).
  const QImage& image() const { return m_image; }
  /// Removes the image and shows `message` instead.
  void clear(const QString& message = {});
  /// The text shown while there is no image.
  const QString& message() const { return m_message; }
  /// Sets the text shown while there is no image.
  void setMessage(const QString& message);
  /// Replaces the marks.
  void setMarks(const QVector<Mark>& marks);
  /// Nearest-neighbour display and integer fit scale (feature maps), or smooth (photos).
  void setPixelated(bool pixelated);
  /// Largest magnification the fit mode uses.
  void setMaxFitScale(double scale);
  /// Whether a double-click fits the image (the default); doubleClicked is emitted either way.
  void setDoubleClickFits(bool fits) { m_doubleClickFits = fits; }

  /// Display scale (widget pixels per image pixel).
  double scale() const { return m_scale; }
  /// True while the image follows the widget size.
  bool isFit() const { return m_fit; }
  /// Fits the image into the widget.
  void zoomToFit();
  /// Zooms to `scale`, keeping the image point under `anchor` (widget coordinates) in place.
  void zoomTo(double scale, QPointF anchor);
  /// Zooms in one step around the centre.
  void zoomIn();
  /// Zooms out one step around the centre.
  void zoomOut();
  /// Shows the image at one widget pixel per image pixel.
  void actualSize();
  /// Widget coordinates -> image coordinates (may lie outside the image).
  QPointF widgetToImage(QPointF p) const;
  /// Image coordinates -> widget coordinates.
  QPointF imageToWidget(QPointF p) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  /// The cursor is over image pixel `pixel` ((-1, -1) when it left the image).
  void hovered(QPoint pixel, QPoint globalPos);
  /// The image was clicked (no drag) at `pixel`.
  void clicked(QPoint pixel);
  /// The image was double-clicked at `pixel` ((-1, -1) outside the image).
  void doubleClicked(QPoint pixel);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void applyFit();
  void clampOffset();
  QPoint pixelAt(QPointF widgetPos) const;

  QImage m_image;
  QString m_message;
  QVector<Mark> m_marks;
  bool m_pixelated = false;
  bool m_doubleClickFits = true;
  double m_maxFitScale = 8.0;
  bool m_fit = true;
  double m_scale = 1.0;
  QPointF m_offset;  // widget position of image pixel (0, 0)
  QPointF m_pressPos, m_pressOffset;
  bool m_pressed = false, m_dragging = false;
};

}  // namespace zfvis::ui
