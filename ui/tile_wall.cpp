#include "ui/tile_wall.h"

#include "ui/map_grid.h"

#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

#include <algorithm>
#include <numeric>

namespace fs::ui {

using namespace fs::analysis;
using namespace fs::service;

namespace {
constexpr int kGap = 4;
constexpr int kLabelH = 13;
}  // namespace

TileWall::TileWall(QWidget* parent) : QAbstractScrollArea(parent) {
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  viewport()->setMouseTracking(true);
}

void TileWall::clear() {
  maps_.clear();
  channels_.clear();
  order_.clear();
  cache_.clear();
  coloured_ = 0;
  updateScrollBars();
  viewport()->update();
}

void TileWall::setMaps(std::vector<cv::Mat> maps, std::vector<int> channels) {
  maps_ = std::move(maps);
  channels_ = std::move(channels);
  channels_.resize(maps_.size(), 0);
  order_.resize(maps_.size());
  std::iota(order_.begin(), order_.end(), 0);
  cache_.assign(maps_.size(), QImage());
  coloured_ = 0;
  updateScrollBars();
  viewport()->update();
}

void TileWall::setDisplay(Colormap map, SignMode sign, std::vector<ValueRange> ranges) {
  colormap_ = map;
  sign_ = sign;
  ranges_ = std::move(ranges);
  cache_.assign(maps_.size(), QImage());
  coloured_ = 0;
  viewport()->update();
}

void TileWall::setOrder(std::vector<int> order) {
  if (order.size() != maps_.size()) return;
  order_ = std::move(order);
  viewport()->update();
}

void TileWall::setTileSide(int px) {
  side_ = std::clamp(px, 16, 512);
  updateScrollBars();
  viewport()->update();
}

void TileWall::setSelectedChannel(int channel) {
  selected_ = channel;
  viewport()->update();
}

int TileWall::columns() const { return std::max(1, (viewport()->width() - kGap) / (side_ + kGap)); }

QRect TileWall::tileRect(int pos) const {
  const int cols = columns();
  const int c = pos % cols, r = pos / cols;
  return {kGap + c * (side_ + kGap), kGap + r * (side_ + kLabelH + kGap), side_, side_};
}

int TileWall::positionAt(QPoint p) const {
  const QPoint content(p.x(), p.y() + verticalScrollBar()->value());
  const int cols = columns();
  const int c = (content.x() - kGap) / (side_ + kGap), r = (content.y() - kGap) / (side_ + kLabelH + kGap);
  if (c < 0 || c >= cols || r < 0) return -1;
  const int pos = r * cols + c;
  return pos < tileCount() && tileRect(pos).contains(content) ? pos : -1;
}

int TileWall::channelAtDisplayPosition(int pos) const {
  return pos >= 0 && pos < tileCount() ? channels_[size_t(order_[size_t(pos)])] : -1;
}

QPoint TileWall::tileCentre(int pos) {
  const QRect r = tileRect(pos);
  QScrollBar* v = verticalScrollBar();
  if (r.top() < v->value() || r.bottom() > v->value() + viewport()->height()) v->setValue(r.top() - kGap);
  return r.center() - QPoint(0, v->value());
}

const QImage& TileWall::image(int index) {
  QImage& img = cache_[size_t(index)];
  if (img.isNull()) {
    const cv::Mat& m = maps_[size_t(index)];
    const ValueRange r = ranges_.empty() ? displayRange(applySign(m, sign_), sign_, 100.0)
                                         : ranges_[std::min(size_t(index), ranges_.size() - 1)];
    img = colourMap(m, sign_, r, colormap_);
    ++coloured_;
  }
  return img;
}

void TileWall::updateScrollBars() {
  const int cols = columns();
  const int rows = (tileCount() + cols - 1) / cols;
  const int contentH = kGap + rows * (side_ + kLabelH + kGap);
  verticalScrollBar()->setRange(0, std::max(0, contentH - viewport()->height()));
  verticalScrollBar()->setPageStep(viewport()->height());
  verticalScrollBar()->setSingleStep(side_ / 2);
}

void TileWall::resizeEvent(QResizeEvent* e) {
  QAbstractScrollArea::resizeEvent(e);
  updateScrollBars();
}

void TileWall::paintEvent(QPaintEvent*) {
  QPainter p(viewport());
  p.fillRect(viewport()->rect(), palette().color(QPalette::Base));
  lastPainted_ = 0;
  if (maps_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(viewport()->rect(), Qt::AlignCenter, tr("No feature maps yet: load a model and an image"));
    return;
  }
  const int cols = columns();
  const int rowH = side_ + kLabelH + kGap;
  const int top = verticalScrollBar()->value();
  const int firstRow = std::max(0, (top - kGap) / rowH);
  const int lastRow = (top + viewport()->height()) / rowH;
  QFont f = font();
  f.setPointSizeF(7.5);
  p.setFont(f);
  for (int r = firstRow; r <= lastRow; ++r)
    for (int c = 0; c < cols; ++c) {
      const int pos = r * cols + c;
      if (pos >= tileCount()) break;
      const int index = order_[size_t(pos)];
      const QRect rect = tileRect(pos).translated(0, -top);
      p.drawImage(rect, image(index));
      ++lastPainted_;
      const int ch = channels_[size_t(index)];
      if (ch == selected_) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 3));
        p.drawRect(rect.adjusted(-1, -1, 0, 0));
      }
      p.setPen(palette().color(QPalette::Text));
      p.drawText(QRect(rect.left(), rect.bottom() + 1, rect.width(), kLabelH), Qt::AlignCenter,
                 QStringLiteral("%1").arg(ch));
    }
}

void TileWall::mousePressEvent(QMouseEvent* e) {
  const int pos = positionAt(e->position().toPoint());
  if (pos < 0) return;
  const int ch = channelAtDisplayPosition(pos);
  setSelectedChannel(ch);
  Q_EMIT channelClicked(ch);
}

}  // namespace fs::ui
