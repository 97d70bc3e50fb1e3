// Conversions between core's types (cv::Mat 8-bit BGR/gray, std::string, paths) and Qt's.
// The only place where core's images become QImages.
#pragma once

#include <filesystem>
#include <string>

#include <QImage>
#include <QString>
#include <opencv2/core.hpp>

namespace zfvis::ui {

/// A deep copy of an 8-bit BGR, BGRA or gray cv::Mat as a 32-bit QImage (RGB32, ARGB32 for BGRA;
/// null for an empty Mat). Call it in the worker: it is the expensive part of showing a picture.
QImage toQImage(const cv::Mat& image);
/// A QImage as an 8-bit BGR cv::Mat (alpha composited over white), a deep copy.
cv::Mat toBgrMat(const QImage& image);
/// UTF-8 std::string -> QString.
QString toQString(const std::string& s);
/// QString -> UTF-8 std::string.
std::string toStdString(const QString& s);
/// A file name from the UI as a filesystem path (local 8-bit encoding).
std::filesystem::path toPath(const QString& fileName);
/// A position in a layer's output, y first as zfvis-cli prints it: "(y 5, x 3)".
QString positionText(cv::Point position);
/// The first line of an exception message, trimmed: what the error dialog shows.
QString oneLine(const char* message);

}  // namespace zfvis::ui
