#include "ui/views/curves_widget.h"

#include <algorithm>
#include <cmath>

#include <QPainter>
#include <QPainterPath>

namespace zfvis::ui {

namespace {
const QColor kLoss(40, 110, 200);
const QColor kTrain(230, 140, 30);
const QColor kTest(200, 40, 40);
const QColor kMarker(60, 160, 60);
}  // namespace

std::vector<double> niceTicks(double lo, double hi, int count) {
  std::vector<double> out;
  if (!(hi > lo) || count < 1) return {lo};
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

CurvesWidget::CurvesWidget(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  m_placeholder = tr("No training log yet.");
}

void CurvesWidget::setRows(std::vector<LogRow> rows) {
  m_rows = std::move(rows);
  update();
}

void CurvesWidget::appendRow(const LogRow& row) {
  m_rows.push_back(row);
  update();
}

void CurvesWidget::clear() {
  m_rows.clear();
  m_marker.reset();
  m_stepRange = 0;
  update();
}

void CurvesWidget::setStepRange(int64_t steps) {
  m_stepRange = steps;
  update();
}

void CurvesWidget::setMarker(std::optional<int64_t> step) {
  m_marker = step;
  update();
}

void CurvesWidget::setPlaceholder(const QString& text) {
  m_placeholder = text;
  update();
}

void CurvesWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  const QFontMetrics fm = fontMetrics();
  if (m_rows.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, m_placeholder);
    return;
  }
  // Plot area: room for the tick labels left (loss), right (accuracy), below (steps) and the
  // legend above.
  const int left = fm.horizontalAdvance("00.00") + 14, right = fm.horizontalAdvance("100%") + 14;
  const int top = fm.height() + 10, bottom = fm.height() * 2 + 10;
  const QRectF plot(left, top, std::max(10, width() - left - right),
                    std::max(10, height() - top - bottom));

  double maxStep = double(std::max<int64_t>(m_stepRange, 1)), maxLoss = 0;
  for (const LogRow& r : m_rows) {
    maxStep = std::max(maxStep, double(r.step));
    if (r.loss && std::isfinite(*r.loss)) maxLoss = std::max(maxLoss, *r.loss);
  }
  if (m_marker) maxStep = std::max(maxStep, double(*m_marker));
  const std::vector<double> xTicks = niceTicks(0, maxStep, 6);
  // A little headroom above the largest loss.
  const double lossTop = maxLoss > 0 ? maxLoss * 1.08 : 1.0;
  const std::vector<double> lossTicks = niceTicks(0, lossTop, 5);
  auto x = [&](double step) { return plot.left() + plot.width() * step / maxStep; };
  auto yLoss = [&](double v) { return plot.bottom() - plot.height() * v / lossTop; };
  auto yAcc = [&](double a) { return plot.bottom() - plot.height() * a; };

  // Grid and ticks.
  const QColor text = palette().color(QPalette::Text);
  QColor grid = text;
  grid.setAlpha(40);
  p.setPen(grid);
  for (double a = 0.25; a <= 1.0; a += 0.25)
    p.drawLine(QPointF(plot.left(), yAcc(a)), QPointF(plot.right(), yAcc(a)));
  p.setPen(text);
  p.drawRect(plot);
  for (double t : xTicks) {
    const double px = x(t);
    p.drawLine(QPointF(px, plot.bottom()), QPointF(px, plot.bottom() + 4));
    const QString label = QString::number(t, 'g', 6);
    p.drawText(QPointF(px - fm.horizontalAdvance(label) / 2.0, plot.bottom() + 4 + fm.ascent()),
               label);
  }
  p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 4, plot.width(), fm.height()),
             Qt::AlignHCenter, tr("step"));
  p.setPen(kLoss);
  for (double t : lossTicks) {
    if (t > lossTop + 1e-12) continue;
    const double py = yLoss(t);
    p.drawLine(QPointF(plot.left() - 4, py), QPointF(plot.left(), py));
    const QString label = QString::number(t, 'g', 3);
    p.drawText(QPointF(plot.left() - 6 - fm.horizontalAdvance(label), py + fm.ascent() / 2.0 - 1),
               label);
  }
  p.setPen(kTrain.darker(120));
  for (int pct = 0; pct <= 100; pct += 25) {
    const double py = yAcc(pct / 100.0);
    p.drawLine(QPointF(plot.right(), py), QPointF(plot.right() + 4, py));
    p.drawText(QPointF(plot.right() + 6, py + fm.ascent() / 2.0 - 1), QString("%1%").arg(pct));
  }

  // Curves.
  p.save();
  p.setClipRect(plot.adjusted(-1, -1, 1, 1));
  auto line = [&](auto value, auto y, const QColor& colour) {
    QPainterPath path;
    bool started = false;
    for (const LogRow& r : m_rows) {
      const std::optional<double> v = value(r);
      if (!v || !std::isfinite(*v)) continue;
      const QPointF pt(x(double(r.step)), y(*v));
      if (started) {
        path.lineTo(pt);
      } else {
        path.moveTo(pt);
        started = true;
      }
    }
    p.setPen(QPen(colour, 1.6));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
  };
  line([](const LogRow& r) { return r.loss; }, yLoss, kLoss);
  line([](const LogRow& r) { return r.trainAccuracy; }, yAcc, kTrain);
  p.setPen(QPen(kTest.darker(130), 1));
  p.setBrush(kTest);
  for (const LogRow& r : m_rows)
    if (r.testAccuracy && std::isfinite(*r.testAccuracy))
      p.drawEllipse(QPointF(x(double(r.step)), yAcc(*r.testAccuracy)), 3.5, 3.5);
  if (m_marker) {
    p.setPen(QPen(kMarker, 2, Qt::DashLine));
    p.drawLine(QPointF(x(double(*m_marker)), plot.top()),
               QPointF(x(double(*m_marker)), plot.bottom()));
  }
  p.restore();

  // Legend above the plot.
  double lx = plot.left();
  const double ly = top - 6;
  auto legend = [&](const QColor& colour, const QString& label, bool point) {
    p.setPen(QPen(colour, 2));
    p.setBrush(colour);
    if (point)
      p.drawEllipse(QPointF(lx + 8, ly - fm.ascent() / 2.0 + 1), 3.5, 3.5);
    else
      p.drawLine(QPointF(lx, ly - fm.ascent() / 2.0 + 1),
                 QPointF(lx + 16, ly - fm.ascent() / 2.0 + 1));
    p.setPen(text);
    p.drawText(QPointF(lx + 20, ly), label);
    lx += 20 + fm.horizontalAdvance(label) + 16;
  };
  legend(kLoss, tr("loss"), false);
  legend(kTrain, tr("train accuracy"), false);
  legend(kTest, tr("test accuracy"), true);
}

}  // namespace zfvis::ui
