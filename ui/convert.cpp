#include "ui/convert.h"

#include <QFile>
#include <QPainter>
#include <opencv2/imgproc.hpp>

namespace zfvis::ui {

QImage toQImage(const cv::Mat& image) {
  if (image.empty()) return {};
  cv::Mat m = image;
  if (m.depth() != CV_8U) m.convertTo(m, CV_8U);
  // 32-bit formats are what the raster paint engine draws without converting.
  switch (m.channels()) {
    case 1: {
      QImage out(m.cols, m.rows, QImage::Format_RGB32);
      for (int y = 0; y < m.rows; ++y) {
        const uchar* src = m.ptr(y);
        auto* dst = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < m.cols; ++x) dst[x] = qRgb(src[x], src[x], src[x]);
      }
      return out;
    }
    case 3: {
      QImage out(m.cols, m.rows, QImage::Format_RGB32);
      for (int y = 0; y < m.rows; ++y) {
        const uchar* src = m.ptr(y);
        auto* dst = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < m.cols; ++x) dst[x] = qRgb(src[3 * x + 2], src[3 * x + 1], src[3 * x]);
      }
      return out;
    }
    case 4: {
      QImage out(m.cols, m.rows, QImage::Format_ARGB32);
      for (int y = 0; y < m.rows; ++y) {
        const uchar* src = m.ptr(y);
        auto* dst = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < m.cols; ++x)
          dst[x] = qRgba(src[4 * x + 2], src[4 * x + 1], src[4 * x], src[4 * x + 3]);
      }
      return out;
    }
    default:
      return {};
  }
}

cv::Mat toBgrMat(const QImage& image) {
  if (image.isNull()) return {};
  QImage rgb(image.size(), QImage::Format_RGB888);
  if (image.hasAlphaChannel()) {
    rgb.fill(Qt::white);
    QPainter p(&rgb);
    p.drawImage(0, 0, image);
  } else {
    rgb = image.convertToFormat(QImage::Format_RGB888);
  }
  cv::Mat out(rgb.height(), rgb.width(), CV_8UC3);
  for (int y = 0; y < rgb.height(); ++y) {
    const uchar* src = rgb.constScanLine(y);
    uchar* dst = out.ptr(y);
    for (int x = 0; x < rgb.width(); ++x) {
      dst[3 * x + 0] = src[3 * x + 2];
      dst[3 * x + 1] = src[3 * x + 1];
      dst[3 * x + 2] = src[3 * x + 0];
    }
  }
  return out;
}

QString toQString(const std::string& s) {
  return QString::fromStdString(s);
}

std::string toStdString(const QString& s) {
  return s.toStdString();
}

std::filesystem::path toPath(const QString& fileName) {
  return std::filesystem::path(QFile::encodeName(fileName).toStdString());
}

QString oneLine(const char* message) {
  QString s = QString::fromUtf8(message ? message : "unknown error");
  const qsizetype nl = s.indexOf(QLatin1Char('\n'));
  if (nl >= 0) s.truncate(nl);
  s = s.trimmed();
  return s.isEmpty() ? QStringLiteral("unknown error") : s;
}

QString positionText(cv::Point position) {
  return QStringLiteral("(y %1, x %2)").arg(position.y).arg(position.x);
}

}  // namespace zfvis::ui
