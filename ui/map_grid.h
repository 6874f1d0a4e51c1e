#pragma once
// A grid of map tiles (feature channels of one tap, or one saliency overlay) with an optional
// colour bar and a linked-cursor marker. Tiles are raw CV_32F maps covering the model input
// (coloured here from the display settings) or a ready image of the original photo. Positions
// cross widgets in ORIGINAL-image pixels, so every map of every model can show the same point.
// GUI thread only.
#include "analysis/colormap.h"
#include "service/types.h"

#include <QImage>
#include <QLinearGradient>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QWidget>

#include <optional>
#include <vector>

class QPainter;

namespace fs::ui {

class MapGrid : public QWidget {
  Q_OBJECT

 public:
  explicit MapGrid(QWidget* parent = nullptr);

  // Channel tiles: raw maps (CV_32F, tap resolution) of a model whose input came from `crop`.
  void setTiles(const std::vector<cv::Mat>& maps, const std::vector<QString>& labels, int cols,
                const fs::service::SessionCrop& crop);
  // One picture of the original image (e.g. a saliency overlay) of size originalSize; `raw`
  // (optional) is the map behind it, covering the model input, for the value readout.
  void setPicture(const QImage& picture, const cv::Mat& raw, const fs::service::SessionCrop& crop);
  // Colours the raw tiles: one range per tile or one shared range; bar shows ranges.front().
  void setDisplay(fs::analysis::Colormap map, fs::analysis::SignMode sign,
                  const std::vector<fs::analysis::ValueRange>& ranges, bool showBar);
  void setCaption(const QString& caption);
  void setTileSide(int px) { tileSide_ = px; updateGeometry(); }
  void clear();

  int tileCount() const { return static_cast<int>(images_.size()); }
  // Linked cursor, in original-image pixels (nullopt hides it).
  void setLinkedCursor(const std::optional<QPointF>& original);
  // A rectangle over the picture (picture mode) in original-image pixel edges, e.g. an exemplar's
  // receptive field (ui/feature_vis_session.h); nullopt hides it.
  void setMark(const std::optional<QRectF>& original);
  std::optional<QRectF> mark() const { return mark_; }
  std::optional<QPointF> linkedCursor() const { return cursor_; }
  QString readout() const { return readout_; }
  // Centre of tile `index` in widget coordinates (tests, keyboard).
  QPoint tileCentre(int index) const;
  int hoveredTile() const { return hoverTile_; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return {80, 80}; }

 Q_SIGNALS:
  void hovered(QPointF original);  // the mouse is over a tile
  void hoverLeft();
  void tileClicked(int index);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void leaveEvent(QEvent*) override;

 private:
  struct Layout {
    int cols = 1, rows = 1, tileW = 1, tileH = 1, x0 = 0, y0 = 0;
  };
  Layout layout() const;
  QRect tileRect(const Layout& l, int index) const;
  // Fraction (0..1) of the tile's frame <-> original pixels.
  QPointF toOriginal(QPointF frac) const;
  QPointF fromOriginal(QPointF original) const;
  void updateReadout();
  void recolour();
  int drawTiles(QPainter& p, const Layout& l) const;
  void drawCursor(QPainter& p, const QRect& r, int i) const;
  void drawCropFrame(QPainter& p, const Layout& l) const;
  void drawMark(QPainter& p, const Layout& l) const;
  void drawColourBar(QPainter& p, const Layout& l, int y, const QFont& f) const;

  std::vector<cv::Mat> raw_;
  std::vector<QImage> images_;
  std::vector<QString> labels_;
  int cols_ = 1;
  bool pictureMode_ = false;
  QSize originalSize_;
  fs::service::SessionCrop crop_;
  fs::analysis::Colormap colormap_ = fs::analysis::Colormap::Gray;
  fs::analysis::SignMode sign_ = fs::analysis::SignMode::Signed;
  std::vector<fs::analysis::ValueRange> ranges_;
  bool showBar_ = false;
  QLinearGradient bar_;  // the colormap along the bar (render/color_ramp.h), relative to its rectangle
  QString caption_, readout_;
  std::optional<QPointF> cursor_;
  std::optional<QRectF> mark_;
  int hoverTile_ = -1;
  int tileSide_ = 52;
};

// CV_32F map -> coloured QImage through the analysis display steps.
QImage colourMap(const cv::Mat& raw, fs::analysis::SignMode sign, const fs::analysis::ValueRange& range,
                 fs::analysis::Colormap map);

}  // namespace fs::ui
