// The scorecard figure: mean and 95% CI per model x method and metric, and the agreement matrices.
#include "analysis/scorecard_figure.h"

#include "analysis/colormap.h"
#include "analysis/evaluation/scorecard_statistics.h"
#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fs::analysis {
using fs::model::InputError;
using nlohmann::json;

namespace {

std::string fixed3(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

bool finite(const json& s, const char* k) { return s.contains(k) && s[k].is_number() && std::isfinite(s[k].get<double>()); }

// The RGB colour of `value` on `map` over `range` (as colorize draws it).
std::array<int, 3> colourOf(double value, const ValueRange& range, Colormap map) {
  const cv::Mat v(1, 1, CV_32F, cv::Scalar(float(value)));
  const cv::Vec3b c = colorize(v, range, map).at<cv::Vec3b>(0, 0);
  return {c[0], c[1], c[2]};
}

// The CI as a vector plot on the column's scale [range.lo, range.hi] (with a margin of 1/18 of it
// at both ends): a light axis over the scale, the CI as a dark line with end caps, and the mean as
// a dot in its colour on the column's colour bar, outlined dark.
FigurePlot ciPlot(double mean, double lo, double hi, const ValueRange& range) {
  FigurePlot plot;
  const double span = range.hi - range.lo, pad = span / 18.0;
  plot.xRange = {range.lo - pad, range.hi + pad};
  plot.yRange = {-1.0, 1.0};
  plot.aspect = 5.0;
  const auto segment = [&](double x0, double x1, double y0, double y1, int grey, double width) {
    PlotSeries s;
    s.x = {x0, x1}, s.y = {y0, y1};
    s.rgb[0] = s.rgb[1] = s.rgb[2] = grey;
    s.lineWidth = width, s.markerRadius = 0;
    plot.series.push_back(s);
  };
  segment(range.lo, range.hi, 0, 0, 220, 0.4);
  segment(lo, hi, 0, 0, 40, 1.4);
  for (double v : {lo, hi}) segment(v, v, -0.35, 0.35, 40, 0.9);
  PlotSeries dot;
  dot.x = {mean}, dot.y = {0.0};
  const std::array<int, 3> c = colourOf(mean, range, Colormap::Turbo);
  for (int k = 0; k < 3; ++k) dot.rgb[k] = c[size_t(k)], dot.edge[k] = 40;
  dot.line = false, dot.markerRadius = 4.0;
  plot.series.push_back(dot);
  return plot;
}

// An agreement cell: a square of one colour, tau on the diverging scale [-1, 1] (light grey when
// tau is undefined), drawn as a vector rectangle.
FigureCell tauCell(double tau, const std::string& note) {
  FigureCell cell;
  cell.kind = CellKind::Plot;
  cell.plot.aspect = 1.0;
  cell.plot.fill = std::isfinite(tau) ? colourOf(tau, {-1.0, 1.0}, Colormap::Diverging) : std::array<int, 3>{235, 235, 235};
  cell.note = note;
  return cell;
}

struct Card {
  std::string label;
  std::vector<std::string> methods;
  json statistics;
};

}  // namespace

namespace {

// The scorecards' statistics, and the metrics of any of them in order of first appearance.
std::vector<Card> readCards(const std::vector<ScorecardFigureInput>& scorecards, std::vector<std::string>& metrics) {
  std::vector<Card> cards;
  for (const auto& s : scorecards) {
    const json doc = json::parse(s.scorecard, nullptr, false);
    if (!doc.is_object() || doc.value("tool", "") != "featurescope-cli evaluate" || !doc.contains("methods"))
      throw InputError(s.source + ": not an evaluate scorecard");
    const json* st = doc.contains("aggregate") && doc["aggregate"].contains("statistics")
                         ? &doc["aggregate"]["statistics"] : nullptr;
    if (!st || !(*st)["metrics"].is_array() || (*st)["metrics"].empty())
      throw InputError(s.source + ": the scorecard has no statistics (no image was scored)");
    cards.push_back({s.label, doc["methods"].get<std::vector<std::string>>(), *st});
    for (const auto& k : (*st)["metrics"])
      if (std::find(metrics.begin(), metrics.end(), k.get<std::string>()) == metrics.end())
        metrics.push_back(k.get<std::string>());
  }
  return cards;
}

// One scale per metric: over every CI of every model and method.
std::vector<ValueRange> metricRanges(const std::vector<Card>& cards, const std::vector<std::string>& metrics) {
  std::vector<ValueRange> ranges;
  for (const std::string& key : metrics) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Card& c : cards)
      for (const std::string& method : c.methods) {
        const json& s = c.statistics["methods"][method].value(key, json::object());
        for (const char* k : {"ci_low", "ci_high", "mean"})
          if (finite(s, k)) lo = std::min(lo, s[k].get<double>()), hi = std::max(hi, s[k].get<double>());
      }
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    ranges.push_back({lo, hi});
  }
  return ranges;
}

// A metric's cell for one model x method: its CI plot and "mean [CI] #rank n=", or a note.
FigureCell metricCell(const json& s, const ValueRange& range) {
  FigureCell cell;
  if (!finite(s, "mean")) {
    cell.note = s.is_object() && !s.empty() ? "undefined" : "not measured";
    return cell;
  }
  const double mean = s["mean"].get<double>();
  const double lo = finite(s, "ci_low") ? s["ci_low"].get<double>() : mean;
  const double hi = finite(s, "ci_high") ? s["ci_high"].get<double>() : mean;
  const std::string rank = finite(s, "rank") ? "  #" + fixed3(s["rank"].get<double>()) : "";
  cell.kind = CellKind::Plot;
  cell.plot = ciPlot(mean, lo, hi, range);
  cell.note = fixed3(mean) + " [" + fixed3(lo) + ", " + fixed3(hi) + "]" + rank + "  n=" + std::to_string(s.value("n", 0));
  return cell;
}

// A card's agreement matrix as rows aligned with the metric columns.
void addAgreementRows(FigureLayout& f, const Card& c, const std::vector<std::string>& metrics) {
  const std::vector<std::string> keys = c.statistics["metrics"].get<std::vector<std::string>>();
  for (size_t i = 0; i < keys.size(); ++i) {
    f.rowLabels.push_back(c.label + ": Kendall tau\nof " + keys[i] + " vs");
    std::vector<FigureCell> row(metrics.size());
    for (size_t j = 0; j < keys.size(); ++j) {
      const json& v = c.statistics["agreement"][i][j];
      const double tau = v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
      const size_t col = size_t(std::find(metrics.begin(), metrics.end(), keys[j]) - metrics.begin());
      row[col] = tauCell(tau, v.is_number() ? "tau " + fixed3(tau) : "tau n/a (< 2 methods)");
    }
    f.cells.push_back(std::move(row));
  }
}

}  // namespace

FigureLayout buildScorecardFigure(const std::vector<ScorecardFigureInput>& scorecards, const std::string& title) {
  if (scorecards.empty()) throw InputError("scorecard figure: no scorecards given");
  std::vector<std::string> metrics;
  const std::vector<Card> cards = readCards(scorecards, metrics);
  const std::vector<ValueRange> ranges = metricRanges(cards, metrics);
  FigureLayout f;
  f.title = title;
  f.metrics.tileSize = 8.0;  // rows of CI cells are 3 tiles high: 26 pt
  f.metrics.noteFont = 5.0;
  f.metrics.barLength = 110.0;
  for (size_t j = 0; j < metrics.size(); ++j) {
    f.columnLabels.push_back(metrics[j] + "\n(" + (recordKeyHigherIsBetter(metrics[j]) ? "higher" : "lower") + " = better)");
    f.columnBars.push_back(ColorBar{Colormap::Turbo, ranges[j], metrics[j] + " mean", {}});
  }
  for (const Card& c : cards)
    for (const std::string& method : c.methods) {
      f.rowLabels.push_back(c.label + "\n" + method);
      std::vector<FigureCell> row;
      for (size_t j = 0; j < metrics.size(); ++j)
        row.push_back(metricCell(c.statistics["methods"][method].value(metrics[j], json::object()), ranges[j]));
      f.cells.push_back(std::move(row));
    }
  for (const Card& c : cards) addAgreementRows(f, c, metrics);
  f.rowBars.assign(f.cells.size(), std::nullopt);
  f.sharedBar = ColorBar{Colormap::Diverging, {-1.0, 1.0}, "Kendall's tau-b between the metrics' method rankings", {}};
  f.caption = "Per model x method and metric: the mean over the images (dot; its place and colour on the column's "
              "scale, bar below) and the percentile-bootstrap 95% CI (line), then mean [CI], rank (#1 = best) and n. "
              "Agreement: Kendall's tau-b between the method rankings of two metrics (1 = same order).";
  validateFigureLayout(f);
  return f;
}

}  // namespace fs::analysis
