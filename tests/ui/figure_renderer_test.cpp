// FigureRenderer: PNG pixel size at two DPIs, PDF and SVG structure, the same page size in every
// format, atomic writes, and refusal of bad layouts and unknown extensions. Headless (offscreen).
#include "render/figure_renderer.h"

#include "analysis/colormap.h"
#include "model/errors.h"
#include "render/banded_png.h"

#include <QByteArray>
#include <QGuiApplication>
#include <QImage>
#include <QRegularExpression>
#include <QXmlStreamReader>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

namespace {
namespace fa = fs::analysis;
namespace stdfs = std::filesystem;

void ensureApplication() {
  if (QGuiApplication::instance()) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "ui_tests";
  static char* argv[] = {name, nullptr};
  new QGuiApplication(argc, argv);  // lives until exit
}

cv::Mat ramp(int h, int w, float scale) {
  cv::Mat m(h, w, CV_32F);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<float>(y, x) = scale * (x + y);
  return m;
}

// Two models x (two tiled stages + an overlay column), all bar kinds, title and caption.
fa::FigureLayout sampleLayout() {
  fa::FigureLayout f;
  f.title = "Stage-wise feature maps";
  f.caption = "A synthetic figure with enough words in its caption to wrap onto a second line at this width, "
              "so the line breaking is exercised as well.";
  f.rowLabels = {"ResNet-50\nresnet50 \u00b7 random init", "ConvMLP-M\nconvmlp_m"};
  f.columnLabels = {"Stage 1", "Stage 2", "Grad-CAM"};
  for (int r = 0; r < 2; ++r) {
    std::vector<fa::FigureCell> row(3);
    for (int c = 0; c < 2; ++c) {
      row[c].kind = fa::CellKind::Tiles;
      for (int i = 0; i < 12; ++i) row[c].tiles.channels.push_back(ramp(7 + 7 * c, 7 + 7 * c, float(i + 1)));
      row[c].tiles.ranges = {fa::ValueRange{0, 200}};
      row[c].note = "layer" + std::to_string(c + 1) + "  256\u00d756\u00d756";
    }
    row[0].tiles.tileLabels = {"#3", "#1"};
    row[2].kind = fa::CellKind::Overlay;
    row[2].overlay.rgb = cv::Mat(60, 80, CV_8UC3, cv::Scalar(200, 40, 40));
    row[2].bar = fa::ColorBar{fa::Colormap::Turbo, {0, 0.8}, "", {}};
    f.cells.push_back(row);
  }
  f.columnBars = {fa::ColorBar{fa::Colormap::Gray, {-1.5, 4}, "activation", {}}, std::nullopt, std::nullopt};
  f.rowBars = {fa::ColorBar{fa::Colormap::Viridis, {0, 1}, "", {}}, std::nullopt};
  f.sharedBar = fa::ColorBar{fa::Colormap::Gray, {0, 1}, "channel min \u2192 max", {{0, "min"}, {1, "max"}}};
  return f;
}

std::string tmpDir() {
  const std::string d = "/tmp/fs_figure_renderer_test_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Pixels in the first `rows` rows within `tolerance` of (r, g, b) in every channel.
int pixelsNear(const QImage& img, int rows, int r, int g, int b, int tolerance) {
  int n = 0;
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      n += std::abs(c.red() - r) < tolerance && std::abs(c.green() - g) < tolerance && std::abs(c.blue() - b) < tolerance;
    }
  return n;
}

// A figure of one plot cell, 40-pt tiles (a row without tiles is 3 tiles and 2 gaps high).
fa::FigureLayout onePlotFigure(const std::string& title, const std::string& row, const std::string& column,
                               const fa::FigurePlot& plot) {
  fa::FigureLayout f;
  f.title = title;
  f.rowLabels = {row};
  f.columnLabels = {column};
  fa::FigureCell cell;
  cell.kind = fa::CellKind::Plot;
  cell.plot = plot;
  f.cells = {{cell}};
  f.metrics.tileSize = 40;
  return f;
}

class FigureRendererTest : public ::testing::Test {
 protected:
  void SetUp() override { ensureApplication(); }
};

TEST_F(FigureRendererTest, PngHasThePixelSizeOfItsDpi) {
  const fs::render::FigureRenderer r(sampleLayout());
  const QSizeF pt = r.sizePoints();
  EXPECT_GT(pt.width(), 200);
  EXPECT_GT(pt.height(), 100);
  const std::string dir = tmpDir();
  for (const double dpi : {72.0, 300.0}) {
    const std::string path = dir + "/fig" + std::to_string(int(dpi)) + ".png";
    r.write(path, dpi);
    const QImage img(QString::fromStdString(path));
    ASSERT_FALSE(img.isNull());
    EXPECT_EQ(img.width(), int(std::ceil(pt.width() * dpi / 72.0 - 1e-9)));
    EXPECT_EQ(img.height(), int(std::ceil(pt.height() * dpi / 72.0 - 1e-9)));
    EXPECT_NEAR(img.dotsPerMeterX() * 0.0254, dpi, 0.5);
  }
  const QImage low(QString::fromStdString(dir + "/fig72.png")), high(QString::fromStdString(dir + "/fig300.png"));
  EXPECT_NEAR(double(high.width()) / low.width(), 300.0 / 72.0, 0.05);
  stdfs::remove_all(dir);
}

// toPng paints in bands of kPngBandRows rows: the decoded file is toImage's picture across band edges
// that cut through tiles, text and bars. Qt's gradient fill computes its colour from the device
// position, so a colour bar may move by 1 of 255 in a few rows: at most that, in at most 0.01% of the pixels.
TEST_F(FigureRendererTest, PngInBandsIsTheWholeImage) {
  const fs::render::FigureRenderer r(sampleLayout());
  const double dpi = 600;
  const QImage whole = r.toImage(dpi);
  ASSERT_GT(whole.height(), 2 * fs::render::kPngBandRows);
  const QImage png = QImage::fromData(r.toPng(dpi), "PNG").convertToFormat(QImage::Format_RGB32);
  ASSERT_EQ(png.size(), whole.size());
  EXPECT_EQ(png.dotsPerMeterX(), whole.dotsPerMeterX());
  int differ = 0, largest = 0;
  for (int y = 0; y < whole.height(); ++y)
    for (int x = 0; x < whole.width(); ++x) {
      const QRgb a = png.pixel(x, y), b = whole.pixel(x, y);
      differ += a != b;
      largest = std::max({largest, std::abs(qRed(a) - qRed(b)), std::abs(qGreen(a) - qGreen(b)),
                          std::abs(qBlue(a) - qBlue(b))});
    }
  EXPECT_LE(largest, 1);
  EXPECT_LE(differ, whole.width() * whole.height() / 10000) << differ << " pixels differ";
}

TEST_F(FigureRendererTest, PngShowsTilesAndText) {
  const QImage img = fs::render::FigureRenderer(sampleLayout()).toImage(150);
  int dark = 0, red = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      dark += c.value() < 60;
      red += c.red() > 180 && c.green() < 80 && c.blue() < 80;
    }
  EXPECT_GT(dark, 500);  // text, dark tile corners
  EXPECT_GT(red, 500);   // the overlay images
}

TEST_F(FigureRendererTest, PdfHasOnePageOfTheFigureSize) {
  const fs::render::FigureRenderer r(sampleLayout());
  const QByteArray pdf = r.toPdf();
  ASSERT_TRUE(pdf.startsWith("%PDF-"));
  EXPECT_TRUE(pdf.trimmed().endsWith("%%EOF"));
  EXPECT_EQ(pdf.count("/Type /Page\n") + pdf.count("/Type /Page\r") + pdf.count("/Type /Page/") +
                pdf.count("/Type /Page "),
            1);
  const QRegularExpression mediaBox(R"(/MediaBox \[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\])");
  const auto m = mediaBox.match(QString::fromLatin1(pdf));
  ASSERT_TRUE(m.hasMatch());
  EXPECT_NEAR(m.captured(1).toDouble(), r.sizePoints().width(), 1.0);
  EXPECT_NEAR(m.captured(2).toDouble(), r.sizePoints().height(), 1.0);
  EXPECT_TRUE(pdf.contains("/Subtype /Image"));
}

// Colour bars are linear gradients (vector in PDF and SVG, one per bar), low values left and at
// the bottom: in the PNG the colormap's low entries lie left of / below its high ones.
TEST_F(FigureRendererTest, ColourBarsAreGradientsFromLowToHigh) {
  const fs::render::FigureRenderer sample(sampleLayout());  // five bars: two cells', a column's, a row's, the shared one
  EXPECT_EQ(sample.toSvg().count("<linearGradient"), 5);
  EXPECT_EQ(sample.toPdf().count("/ShadingType 2"), 5);

  fa::FigureLayout f;
  f.rowLabels = {"row"};
  f.columnLabels = {"column"};
  fa::FigureCell cell;
  cell.kind = fa::CellKind::Tiles;
  cell.tiles.channels = {cv::Mat(8, 8, CV_32F, cv::Scalar(0.5f))};
  cell.tiles.ranges = {fa::ValueRange{0, 1}};
  f.cells = {{cell}};
  f.columnBars = {fa::ColorBar{fa::Colormap::Turbo, {0, 1}, "", {}}};
  f.rowBars = {fa::ColorBar{fa::Colormap::Viridis, {0, 1}, "", {}}};
  const QImage img = fs::render::FigureRenderer(f).toImage(300);
  // The mean position of the pixels within 10 of a colour in every channel.
  const auto centre = [&](fa::Colormap map, int entry) {
    const cv::Vec3b c = fa::colorBar(map, 256, 1, false).at<cv::Vec3b>(0, entry);
    double x = 0, y = 0;
    int n = 0;
    for (int py = 0; py < img.height(); ++py)
      for (int px = 0; px < img.width(); ++px) {
        const QColor q = img.pixelColor(px, py);
        if (std::abs(q.red() - c[0]) < 10 && std::abs(q.green() - c[1]) < 10 && std::abs(q.blue() - c[2]) < 10)
          x += px, y += py, ++n;
      }
    EXPECT_GT(n, 20) << "colormap entry " << entry;
    return QPointF(x / std::max(n, 1), y / std::max(n, 1));
  };
  EXPECT_LT(centre(fa::Colormap::Turbo, 10).x() + 50, centre(fa::Colormap::Turbo, 245).x());
  EXPECT_GT(centre(fa::Colormap::Viridis, 10).y(), centre(fa::Colormap::Viridis, 245).y() + 50);
}

TEST_F(FigureRendererTest, SvgIsWellFormedXmlWithTextAndImages) {
  const fs::render::FigureRenderer r(sampleLayout());
  const QByteArray svg = r.toSvg();
  QXmlStreamReader xml(svg);
  QString root;
  int texts = 0, images = 0;
  while (!xml.atEnd()) {
    if (xml.readNext() != QXmlStreamReader::StartElement) continue;
    if (root.isEmpty()) root = xml.name().toString();
    texts += xml.name() == QLatin1String("text");
    images += xml.name() == QLatin1String("image");
    if (xml.name() == QLatin1String("svg")) {
      const QStringList box = xml.attributes().value("viewBox").toString().split(' ', Qt::SkipEmptyParts);
      ASSERT_EQ(box.size(), 4);
      EXPECT_NEAR(box[2].toDouble(), r.sizePoints().width(), 0.5);
      EXPECT_NEAR(box[3].toDouble(), r.sizePoints().height(), 0.5);
    }
  }
  EXPECT_FALSE(xml.hasError()) << xml.errorString().toStdString();
  EXPECT_EQ(root, "svg");
  EXPECT_GT(texts, 10);   // labels, notes, ticks stay text
  EXPECT_GE(images, 48);  // 4 cells x 12 tiles, plus overlays and bars
}

TEST_F(FigureRendererTest, WritesAtomicallyAndLeavesNoTemporaries) {
  const fs::render::FigureRenderer r(sampleLayout());
  const std::string dir = tmpDir();
  for (const char* name : {"f.png", "f.pdf", "f.SVG"}) r.write(dir + "/" + name, 96);
  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"f.SVG", "f.pdf", "f.png"}));
  EXPECT_EQ(slurp(dir + "/f.pdf").rfind("%PDF", 0), 0u);
  EXPECT_THROW(r.write(dir + "/missing/f.png", 96), fs::model::InputError);
  EXPECT_FALSE(stdfs::exists(dir + "/missing"));
  stdfs::remove_all(dir);
}

TEST_F(FigureRendererTest, RefusesUnknownFormatsAndBadLayouts) {
  EXPECT_THROW(fs::render::figureFormatForPath("x.jpg"), fs::model::InputError);
  EXPECT_EQ(fs::render::figureFormatForPath("X.PDF"), fs::render::FigureFormat::Pdf);
  fa::FigureLayout bad = sampleLayout();
  bad.cells[1].pop_back();
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
  EXPECT_THROW(fs::render::FigureRenderer(sampleLayout()).toImage(1e6), fs::model::InputError);
}

TEST_F(FigureRendererTest, LayoutIsTheSameForEveryDpi) {
  const fs::render::FigureRenderer r(sampleLayout());
  const QImage a = r.toImage(72), b = r.toImage(144);
  const QImage down = b.scaled(a.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  // Content lands in the same places: compare coarse ink distributions per column band.
  auto inkProfile = [](const QImage& img) {
    std::vector<double> bands(8, 0.0);
    for (int y = 0; y < img.height(); ++y)
      for (int x = 0; x < img.width(); ++x) bands[x * 8 / img.width()] += 255 - qGray(img.pixel(x, y));
    const double total = std::accumulate(bands.begin(), bands.end(), 0.0);
    for (double& v : bands) v /= total;
    return bands;
  };
  const auto pa = inkProfile(a), pb = inkProfile(down);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 0.02) << "band " << i;
}

// A legend under the title: the swatches in their colours (vector shapes), the labels as text, one
// line or several when the entries do not fit the figure's width; an entry without a label refused.
TEST_F(FigureRendererTest, LegendDrawsSwatchesInTheirColoursAndLabelsAsText) {
  fa::FigureLayout f = sampleLayout();
  const fs::render::FigureRenderer plain(f);
  f.legend = {{"first method", {31, 119, 180}, false, false}, {"second method", {255, 127, 14}, true, true}};
  const fs::render::FigureRenderer keyed(f);
  EXPECT_GT(keyed.sizePoints().height(), plain.sizePoints().height());
  EXPECT_EQ(keyed.sizePoints().width(), plain.sizePoints().width());
  const QImage img = keyed.toImage(150);
  const int titleBottom = int((f.metrics.margin + 16) * 150 / 72);  // the legend's line starts below the title
  const int rows = std::min(img.height(), titleBottom + 40);
  EXPECT_GT(pixelsNear(img, rows, 31, 119, 180, 12), 20);
  EXPECT_GT(pixelsNear(img, rows, 255, 127, 14, 12), 10);
  const QByteArray svg = keyed.toSvg();
  EXPECT_TRUE(svg.contains("first method"));
  EXPECT_TRUE(svg.contains("second method"));
  // Many entries wrap onto more lines: the figure grows, not wider.
  fa::FigureLayout many = f;
  for (int i = 0; i < 30; ++i) many.legend.push_back({"entry number " + std::to_string(i), {0, 0, 0}, false, false});
  const fs::render::FigureRenderer wrapped(many);
  EXPECT_EQ(wrapped.sizePoints().width(), plain.sizePoints().width());
  EXPECT_GT(wrapped.sizePoints().height(), keyed.sizePoints().height() + 20);
  fa::FigureLayout bad = f;
  bad.legend.push_back({"", {0, 0, 0}, false, false});
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
  bad.legend.back() = {"colour", {0, 300, 0}, false, false};
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
}

// A plot cell is drawn as vector shapes: no image in the SVG, one path per series plus its dots,
// the tick labels as text; its series' colours land inside the cell in the PNG. Bad plots refused.
TEST_F(FigureRendererTest, PlotCellsAreVectorLinesWithTextTicks) {
  fa::FigurePlot plot;
  plot.xRange = {0, 3};
  plot.yRange = {-1, 1};
  plot.yGrid = {{-1, "-1"}, {0, "0"}, {1, "1"}};
  plot.emphasis = 0.0;
  plot.xTicks = {{0, "original"}, {1, "head"}, {2, "middle"}, {3, "stem"}};
  plot.series = {{{0, 1, 2, 3}, {1, 0.5, -0.2, 2.0}, {214, 39, 40}, false, false},
                 {{0, 1, 2, 3}, {1, 0.8, 0.7, 0.6}, {44, 160, 44}, true, true}};
  const fa::FigureLayout f = onePlotFigure("plot", "similarity", "curves", plot);
  const fs::render::FigureRenderer r(f);
  const QByteArray svg = r.toSvg();
  EXPECT_FALSE(svg.contains("<image")) << "the plot is not a raster image";
  EXPECT_TRUE(svg.contains("middle"));
  EXPECT_TRUE(svg.contains("original"));
  const QImage img = r.toImage(200);
  EXPECT_GT(pixelsNear(img, img.height(), 214, 39, 40, 16), 100);
  EXPECT_GT(pixelsNear(img, img.height(), 44, 160, 44, 16), 50);
  fa::FigureLayout bad = f;
  bad.cells[0][0].plot.series[0].y.pop_back();
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
  bad = f;
  bad.cells[0][0].plot.yRange = {1, 1};
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
  bad = f;
  bad.cells[0][0].plot.series[1].y[2] = std::nan("");
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
}

// A plot's fill paints its whole area (a square at aspect 1) as a vector rectangle: no image in
// the SVG, its colour in the SVG's text and over the cell's area in the PNG. A colour outside
// 0..255 is refused.
TEST_F(FigureRendererTest, PlotFillIsAVectorRectangleOverTheCell) {
  fa::FigurePlot plot;
  plot.aspect = 1.0;
  plot.fill = std::array<int, 3>{59, 76, 192};
  const fa::FigureLayout f = onePlotFigure("fill", "tau", "gini", plot);
  const fs::render::FigureRenderer r(f);
  const QByteArray svg = r.toSvg();
  EXPECT_FALSE(svg.contains("<image")) << "the square is not a raster image";
  EXPECT_TRUE(svg.toLower().contains("#3b4cc0")) << "the fill colour is in the SVG";
  // A row without tiles is 3 tiles and 2 gaps high, 123 pt: at 2 pixels per point, 246 x 246.
  const QImage img = r.toImage(144);
  const int filled = pixelsNear(img, img.height(), 59, 76, 192, 3);
  EXPECT_GT(filled, 242 * 242);
  EXPECT_LT(filled, 248 * 248);
  fa::FigureLayout bad = f;
  bad.cells[0][0].plot.fill = std::array<int, 3>{0, 256, 0};
  EXPECT_THROW(fs::render::FigureRenderer{bad}, fs::model::InputError);
}

}  // namespace
