#pragma once
// A publication figure as plain data (no Qt, no LibTorch): a title, labelled rows and columns of
// cells (tiled channel grids or image overlays), colour bars and a caption, sized in points.
// ui/FigureRenderer draws it to PNG/PDF/SVG; buildFeatureFigure fills it with the ConvMLP paper's
// stage-wise feature-map figure. Pure data, any thread.
#include "analysis/colormap.h"
#include "analysis/saliency/method_parameters.h"

#include <opencv2/core/mat.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace fs::analysis {

struct LoadedModel;

struct BarTick {
  double value = 0.0;  // in the bar's range
  std::string label;
};

// A colour scale: `range` maps onto the colormap; ticks empty = the renderer uses niceTicks().
struct ColorBar {
  Colormap colormap = Colormap::Gray;
  ValueRange range;
  std::string label;
  std::vector<BarTick> ticks;
};

// Channel images (CV_32F, one per tile, row-major in a cols x rows grid) coloured through
// `colormap`; ranges has one entry per tile or a single entry shared by all tiles.
struct FigureTiles {
  std::vector<cv::Mat> channels;
  std::vector<std::string> tileLabels;  // optional, one per tile (e.g. "#17")
  int cols = 4;
  int rows = 3;
  std::vector<ValueRange> ranges;
  Colormap colormap = Colormap::Gray;
};

// An image that is already coloured (CV_8UC3 RGB), with the scale its colours encode.
struct FigureOverlay {
  cv::Mat rgb;
  ValueRange range;
  Colormap colormap = Colormap::Turbo;
  cv::Mat map;  // CV_32F: the map the colours encode (a saliency result's displayed map2d)
};

// One key of the line charts in plot cells: a short line in `rgb` (solid or dashed) with a dot
// (filled or open) on it, then the label. The renderer draws the keys as vector shapes and text
// under the title, left to right, wrapping at the figure's width.
struct LegendEntry {
  std::string label;
  int rgb[3] = {0, 0, 0};
  bool dashed = false;
  bool openMarker = false;
};

// A line chart drawn as vector shapes and text: series of points (x, y) with a line (solid or
// dashed) and a dot (filled or open) at each point, on the given ranges (a value outside is drawn
// at the edge); horizontal grid lines labelled on the left (`emphasis`: a darker one, e.g. at 0),
// x ticks labelled under the axis (a label that would overlap the previous one is left out);
// without grid or ticks the plot fills its cell. `fill`: the plot area painted in that colour first,
// as one vector rectangle (a matrix cell such as the scorecard's Kendall's tau).
struct PlotSeries {
  std::vector<double> x, y;  // the same length, finite
  int rgb[3] = {0, 0, 0};
  bool dashed = false;
  bool openMarker = false;
  bool line = true;           // join the points
  double lineWidth = 1.1;     // points
  double markerRadius = 1.7;  // points; 0: no dots
  int edge[3] = {-1, -1, -1};  // the dots' outline; -1: the series' colour
};

struct FigurePlot {
  ValueRange xRange{0.0, 1.0}, yRange{0.0, 1.0};
  std::vector<BarTick> yGrid, xTicks;
  std::optional<double> emphasis;  // a y value whose grid line is drawn darker
  std::optional<std::array<int, 3>> fill;  // RGB 0..255; none: the page shows through
  std::vector<PlotSeries> series;
  double aspect = 2.4;  // width / height of the plot cell
};

enum class CellKind { Empty, Tiles, Overlay, Plot };

struct FigureCell {
  CellKind kind = CellKind::Empty;
  FigureTiles tiles;
  FigureOverlay overlay;
  FigurePlot plot;
  std::string note;              // small text under the cell (tap name, shape)
  std::optional<ColorBar> bar;   // a horizontal bar under this cell only
};

// Sizes in points (1/72 inch). Fonts are sans serif; the renderer derives everything else.
struct FigureMetrics {
  double tileSize = 24.0;      // side of one channel tile
  double tileGap = 1.5;
  double columnGap = 8.0;
  double rowGap = 6.0;
  double margin = 6.0;
  double barThickness = 4.0;
  double barLength = 120.0;    // shared bar
  double titleFont = 10.0;
  double headerFont = 8.0;     // column and row labels (first line bold)
  double noteFont = 5.5;       // cell notes, second label lines
  double tickFont = 5.5;
  double captionFont = 7.0;
};

// rows x columns cells; labels may have several lines separated by '\n'. Bars: rowBars and
// columnBars are empty or one optional bar per row / column; sharedBar spans the figure.
struct FigureLayout {
  std::string title;
  std::string caption;
  std::vector<std::string> rowLabels;
  std::vector<std::string> columnLabels;
  std::vector<std::vector<FigureCell>> cells;  // [row][column]
  std::vector<std::optional<ColorBar>> rowBars;
  std::vector<std::optional<ColorBar>> columnBars;
  std::optional<ColorBar> sharedBar;
  std::vector<LegendEntry> legend;  // empty: none
  FigureMetrics metrics;

  int rowCount() const { return static_cast<int>(cells.size()); }
  int columnCount() const { return static_cast<int>(columnLabels.size()); }
};

// "Nice" tick values (1, 2, 5 x 10^n steps) inside [lo, hi], at most maxTicks, labelled with
// up to 3 significant digits; the two ends when fewer than two round values fit; a degenerate
// range gives one tick.
std::vector<BarTick> niceTicks(const ValueRange& range, int maxTicks = 5);

// Checks the layout's shape (cells per row = columns, bar vectors sized, tile counts, image
// types, legend labels and colours); throws fs::model::InputError naming the first problem.
void validateFigureLayout(const FigureLayout& layout);

// A readable name for a model: "ResNet-50", "MLP-Mixer-B/16", "ConvMLP-M"; for a JSON config
// path the family and the config's folder or file stem ("ConvMLP (convmlp_tiny)").
std::string modelDisplayName(const LoadedModel& model);
// A short file-system-safe key: the registered id, or the folder/stem of a config path.
std::string modelShortId(const std::string& idOrConfigPath);

// The ConvMLP paper's figure (MODELS.md, last section), then better: rows = models, columns =
// each model's stages() (or the taps in `stages`), each cell k channels in a near-square grid.
struct FeatureFigureOptions {
  std::vector<std::vector<std::string>> stages;  // empty: auto; one list for all models or one per model
  int channels = 12;
  int gridColumns = 0;                 // 0: ceil(sqrt(channels)) (12 -> 4 x 3)
  std::string rank = "first";          // first | mean | max | contribution
  std::string norm = "channel";        // channel | tap | shared (one range per column over all models)
  std::string colormap = "gray";
  std::string saliency;                // empty: no saliency column; else a method name
  MethodParameters saliencyParameters; // its parameters (defaults: method_parameters.h); target top-1, tap camTap
  std::string saliencyColormap;        // empty: the method's (MapConvention)
  std::string title;
  std::string imageName;               // for the caption
};

// One forward per model with all stage taps (plus one backward for rank=contribution, and the
// saliency method's own passes). `image` is CV_8UC3 RGB, preprocessed per model. InputError for
// unknown taps, methods, ranks, norms or colormaps.
FigureLayout buildFeatureFigure(const std::vector<LoadedModel*>& models, const cv::Mat& image,
                                const FeatureFigureOptions& options);

}  // namespace fs::analysis
