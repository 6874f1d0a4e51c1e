#pragma once
// A virtualised wall of channel tiles for one tap: only the rows in view are coloured and painted
// (colouring is cached per channel until the display changes), so taps with thousands of channels
// scroll smoothly. Tiles follow a display order (sorting never touches the maps). GUI thread only.
#include "analysis/colormap.h"

#include <QAbstractScrollArea>
#include <QImage>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <vector>

namespace fs::ui {

class TileWall : public QAbstractScrollArea {
  Q_OBJECT

 public:
  explicit TileWall(QWidget* parent = nullptr);

  // maps[i] is channel channels[i] (CV_32F); ranges: one per map or a single shared one.
  void setMaps(std::vector<cv::Mat> maps, std::vector<int> channels);
  void setDisplay(fs::analysis::Colormap map, fs::analysis::SignMode sign,
                  std::vector<fs::analysis::ValueRange> ranges);
  // Display order as positions into the maps given to setMaps (a permutation).
  void setOrder(std::vector<int> order);
  void setTileSide(int px);
  void setSelectedChannel(int channel);
  void clear();

  int tileCount() const { return static_cast<int>(maps_.size()); }
  int tileSide() const { return side_; }
  int columns() const;
  // Tiles coloured so far / drawn by the last paint (virtualisation is measurable).
  int colouredTiles() const { return coloured_; }
  int lastPaintedTiles() const { return lastPainted_; }
  // Viewport centre of the tile at display position `pos`, scrolling it into view first.
  QPoint tileCentre(int pos);
  int channelAtDisplayPosition(int pos) const;

 Q_SIGNALS:
  void channelClicked(int channel);

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void mousePressEvent(QMouseEvent* e) override;

 private:
  QRect tileRect(int pos) const;  // in content coordinates
  int positionAt(QPoint viewportPoint) const;
  const QImage& image(int index);
  void updateScrollBars();

  std::vector<cv::Mat> maps_;
  std::vector<int> channels_, order_;
  std::vector<QImage> cache_;
  std::vector<fs::analysis::ValueRange> ranges_;
  fs::analysis::Colormap colormap_ = fs::analysis::Colormap::Viridis;
  fs::analysis::SignMode sign_ = fs::analysis::SignMode::Signed;
  int side_ = 64;
  int selected_ = -1;
  int coloured_ = 0, lastPainted_ = 0;
};

}  // namespace fs::ui
