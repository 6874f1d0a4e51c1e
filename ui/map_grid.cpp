#include "ui/map_grid.h"

#include "render/color_ramp.h"
#include "render/image_conversion.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace fs::ui {

using namespace fs::render;

using namespace fs::analysis;
using namespace fs::service;

namespace {
constexpr int kGap = 2;
constexpr int kCaptionH = 16;
constexpr int kReadoutH = 15;
constexpr int kBarH = 24;
}  // namespace

QImage colourMap(const cv::Mat& raw, SignMode sign, const ValueRange& range, Colormap map) {
  if (raw.empty()) return {};
  return toQImage(colorize(applySign(raw, sign), range, map));
}

MapGrid::MapGrid(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void MapGrid::clear() {
  raw_.clear();
  images_.clear();
  labels_.clear();
  readout_.clear();
  update();
}

void MapGrid::setTiles(const std::vector<cv::Mat>& maps, const std::vector<QString>& labels, int cols,
                       const SessionCrop& crop) {
  pictureMode_ = false;
  raw_ = maps;
  labels_ = labels;
  cols_ = std::max(1, cols);
  crop_ = crop;
  recolour();
  updateGeometry();
}

void MapGrid::setPicture(const QImage& picture, const cv::Mat& raw, const SessionCrop& crop) {
  pictureMode_ = true;
  images_ = {picture};
  raw_ = raw.empty() ? std::vector<cv::Mat>{} : std::vector<cv::Mat>{raw};
  labels_.clear();
  cols_ = 1;
  crop_ = crop;
  originalSize_ = picture.size();
  updateReadout();
  updateGeometry();
  update();
}

void MapGrid::setDisplay(Colormap map, SignMode sign, const std::vector<ValueRange>& ranges, bool showBar) {
  colormap_ = map;
  sign_ = sign;
  ranges_ = ranges;
  showBar_ = showBar && !ranges.empty();
  // Built once per setting, not per paint (the linked cursor repaints every grid): left to right
  // across whatever rectangle it fills.
  bar_ = colorRamp(map, QPointF(0, 0), QPointF(1, 0));
  bar_.setCoordinateMode(QGradient::ObjectBoundingMode);
  if (!pictureMode_) recolour();
  updateGeometry();
  update();
}

void MapGrid::setCaption(const QString& caption) {
  caption_ = caption;
  update();
}

void MapGrid::recolour() {
  images_.clear();
  for (size_t i = 0; i < raw_.size(); ++i) {
    const ValueRange r = ranges_.empty() ? displayRange(applySign(raw_[i], sign_), sign_, 100.0)
                                         : ranges_[std::min(i, ranges_.size() - 1)];
    images_.push_back(colourMap(raw_[i], sign_, r, colormap_));
  }
  updateReadout();
  update();
}

QSize MapGrid::sizeHint() const {
  const int n = std::max(1, tileCount());
  const int cols = std::min(cols_, n), rows = (n + cols - 1) / cols;
  int side = pictureMode_ ? tileSide_ * 3 : tileSide_;
  const double aspect = pictureMode_ && !originalSize_.isEmpty()
                            ? double(originalSize_.height()) / originalSize_.width()
                            : 1.0;
  const int w = cols * (side + kGap);
  const int h = int(rows * (side * aspect + kGap)) + kCaptionH + kReadoutH + (showBar_ ? kBarH : 0);
  return {w, h};
}

MapGrid::Layout MapGrid::layout() const {
  Layout l;
  const int n = std::max(1, tileCount());
  l.cols = std::min(cols_, n);
  l.rows = (n + l.cols - 1) / l.cols;
  const int availW = width() - (l.cols - 1) * kGap;
  const int availH = height() - kCaptionH - kReadoutH - (showBar_ ? kBarH : 0) - (l.rows - 1) * kGap;
  double aspect = 1.0;  // h / w of one tile
  if (pictureMode_ && !originalSize_.isEmpty()) aspect = double(originalSize_.height()) / originalSize_.width();
  else if (!raw_.empty()) aspect = double(raw_[0].rows) / std::max(1, raw_[0].cols);
  int tw = std::max(1, availW / l.cols);
  int th = std::max(1, availH / l.rows);
  if (th < tw * aspect) tw = std::max(1, int(th / aspect));
  th = std::max(1, int(std::round(tw * aspect)));
  l.tileW = tw, l.tileH = th;
  l.x0 = (width() - (l.cols * tw + (l.cols - 1) * kGap)) / 2;
  l.y0 = kCaptionH;
  return l;
}

QRect MapGrid::tileRect(const Layout& l, int index) const {
  const int c = index % l.cols, r = index / l.cols;
  return {l.x0 + c * (l.tileW + kGap), l.y0 + r * (l.tileH + kGap), l.tileW, l.tileH};
}

QPoint MapGrid::tileCentre(int index) const { return tileRect(layout(), index).center(); }

QPointF MapGrid::toOriginal(QPointF f) const {
  if (pictureMode_) return {f.x() * originalSize_.width() - 0.5, f.y() * originalSize_.height() - 0.5};
  const cv::Point2d p = crop_.toOriginal(f.x() * crop_.width - 0.5, f.y() * crop_.height - 0.5);
  return {p.x, p.y};
}

QPointF MapGrid::fromOriginal(QPointF o) const {
  if (pictureMode_)
    return {(o.x() + 0.5) / std::max(1, originalSize_.width()), (o.y() + 0.5) / std::max(1, originalSize_.height())};
  const cv::Point2d p = crop_.fromOriginal(o.x(), o.y());
  return {(p.x + 0.5) / std::max(1, crop_.width), (p.y + 0.5) / std::max(1, crop_.height)};
}

void MapGrid::setLinkedCursor(const std::optional<QPointF>& original) {
  cursor_ = original;
  updateReadout();
  update();
}

void MapGrid::updateReadout() {
  readout_.clear();
  if (!cursor_ || raw_.empty()) return;
  if (pictureMode_ && raw_.front().total() <= 1) {  // a plain picture: the pixel position
    readout_ = QStringLiteral("x %1, y %2").arg(std::lround(cursor_->x())).arg(std::lround(cursor_->y()));
    return;
  }
  // The raw maps always cover the model input.
  const cv::Point2d p = crop_.fromOriginal(cursor_->x(), cursor_->y());
  const double fx = (p.x + 0.5) / std::max(1, crop_.width), fy = (p.y + 0.5) / std::max(1, crop_.height);
  const int tile = pictureMode_ ? 0 : std::clamp(hoverTile_ < 0 ? 0 : hoverTile_, 0, int(raw_.size()) - 1);
  const cv::Mat& m = raw_[size_t(tile)];
  if (fx < 0 || fy < 0 || fx >= 1 || fy >= 1) {
    readout_ = tr("outside the model input");
    return;
  }
  const int x = std::min(m.cols - 1, int(fx * m.cols)), y = std::min(m.rows - 1, int(fy * m.rows));
  const QString name = tile < int(labels_.size()) ? labels_[size_t(tile)] : QString();
  readout_ = QStringLiteral("%1[%2,%3] = %4").arg(name).arg(y).arg(x).arg(double(m.at<float>(y, x)), 0, 'g', 4);
}

void MapGrid::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, false);
  QFont f = font();
  f.setPointSizeF(8.5);
  p.setFont(f);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRect(0, 0, width(), kCaptionH), Qt::AlignCenter | Qt::TextSingleLine,
             p.fontMetrics().elidedText(caption_, Qt::ElideRight, width()));
  const Layout l = layout();
  const int bottom = drawTiles(p, l);
  if (pictureMode_ && !raw_.empty()) drawCropFrame(p, l);  // the crop the model saw
  if (pictureMode_ && mark_ && tileCount() > 0) drawMark(p, l);  // e.g. an exemplar's receptive field
  p.setPen(palette().color(QPalette::WindowText));
  int y = bottom + 2;
  p.drawText(QRect(0, y, width(), kReadoutH), Qt::AlignCenter, readout_);
  y += kReadoutH;
  if (showBar_) drawColourBar(p, l, y, f);
}

// Draws every tile with the linked cursor and the hovered tile's frame; returns the lowest tile edge.
int MapGrid::drawTiles(QPainter& p, const Layout& l) const {
  int bottom = l.y0;
  for (int i = 0; i < tileCount(); ++i) {
    const QRect r = tileRect(l, i);
    p.drawImage(r, images_[size_t(i)]);
    bottom = std::max(bottom, r.bottom());
    if (cursor_) drawCursor(p, r, i);
    if (i == hoverTile_ && !pictureMode_) {
      p.setPen(QPen(palette().color(QPalette::Highlight), 1));
      p.drawRect(r.adjusted(0, 0, -1, -1));
    }
  }
  return bottom;
}

// Draws the linked cursor's cross on tile i (at r) when the cursor lies within the tile.
void MapGrid::drawCursor(QPainter& p, const QRect& r, int i) const {
  const QPointF fr = fromOriginal(*cursor_);
  if (fr.x() >= 0 && fr.y() >= 0 && fr.x() <= 1 && fr.y() <= 1) {
    const QPointF c(r.left() + fr.x() * r.width(), r.top() + fr.y() * r.height());
    const int arm = std::max(3, std::min(r.width(), r.height()) / 6);
    p.setPen(QPen(QColor(255, 40, 40), i == hoverTile_ || pictureMode_ ? 2 : 1));
    p.drawLine(QPointF(c.x() - arm, c.y()), QPointF(c.x() + arm, c.y()));
    p.drawLine(QPointF(c.x(), c.y() - arm), QPointF(c.x(), c.y() + arm));
  }
}

// Draws the model input's crop as a dashed frame over the picture.
void MapGrid::drawCropFrame(QPainter& p, const Layout& l) const {
  const QRect r = tileRect(l, 0);
  const cv::Point2d a = crop_.toOriginal(-0.5, -0.5), b = crop_.toOriginal(crop_.width - 0.5, crop_.height - 0.5);
  const double sx = double(r.width()) / std::max(1, originalSize_.width());
  const double sy = double(r.height()) / std::max(1, originalSize_.height());
  p.setPen(QPen(QColor(255, 255, 255, 160), 1, Qt::DashLine));
  p.drawRect(QRectF(r.left() + (a.x + 0.5) * sx, r.top() + (a.y + 0.5) * sy, (b.x - a.x) * sx, (b.y - a.y) * sy));
}

// Draws the mark's rectangle over the picture.
void MapGrid::drawMark(QPainter& p, const Layout& l) const {
  const QRect r = tileRect(l, 0);
  const double sx = double(r.width()) / std::max(1, originalSize_.width());
  const double sy = double(r.height()) / std::max(1, originalSize_.height());
  p.setPen(QPen(QColor(255, 196, 0), 2));
  p.drawRect(QRectF(r.left() + mark_->left() * sx, r.top() + mark_->top() * sy, mark_->width() * sx,
                    mark_->height() * sy));
}

// Draws the colour bar at height y with the first range's ends under it, in a smaller size of font f.
void MapGrid::drawColourBar(QPainter& p, const Layout& l, int y, const QFont& f) const {
  const int bw = std::min(width() - 8, std::max(60, l.cols * l.tileW));
  const QRect br((width() - bw) / 2, y + 1, bw, 8);
  p.fillRect(br, bar_);
  p.setPen(QColor(120, 120, 120));
  p.drawRect(br.adjusted(0, 0, -1, -1));
  p.setPen(palette().color(QPalette::WindowText));
  const ValueRange& vr = ranges_.front();
  QFont tf = f;
  tf.setPointSizeF(7.5);
  p.setFont(tf);
  p.drawText(QRect(br.left(), br.bottom() + 1, bw / 2, 12), Qt::AlignLeft, QString::number(vr.lo, 'g', 3));
  p.drawText(QRect(br.left() + bw / 2, br.bottom() + 1, bw / 2, 12), Qt::AlignRight, QString::number(vr.hi, 'g', 3));
}

void MapGrid::setMark(const std::optional<QRectF>& original) {
  mark_ = original;
  update();
}

void MapGrid::mouseMoveEvent(QMouseEvent* e) {
  const Layout l = layout();
  for (int i = 0; i < tileCount(); ++i) {
    const QRect r = tileRect(l, i);
    if (r.contains(e->position().toPoint())) {
      hoverTile_ = i;
      const QPointF fr((e->position().x() - r.left()) / r.width(), (e->position().y() - r.top()) / r.height());
      Q_EMIT hovered(toOriginal(fr));
      return;
    }
  }
}

void MapGrid::mousePressEvent(QMouseEvent* e) {
  const Layout l = layout();
  for (int i = 0; i < tileCount(); ++i)
    if (tileRect(l, i).contains(e->position().toPoint())) Q_EMIT tileClicked(i);
}

void MapGrid::leaveEvent(QEvent*) {
  hoverTile_ = -1;
  Q_EMIT hoverLeft();
}

}  // namespace fs::ui
