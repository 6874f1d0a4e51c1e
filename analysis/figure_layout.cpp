#include "analysis/figure_layout.h"

#include "analysis/model_loader.h"
#include "model/errors.h"
#include "model/registry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace fs::analysis {
using fs::model::InputError;

namespace {

std::string formatTick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

}  // namespace

std::vector<BarTick> niceTicks(const ValueRange& range, int maxTicks) {
  const double lo = std::min(range.lo, range.hi), hi = std::max(range.lo, range.hi);
  if (!(hi > lo) || !std::isfinite(hi - lo)) return {{lo, formatTick(lo)}};
  const double raw = (hi - lo) / std::max(1, maxTicks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw * (1 - 1e-9)) {
      step = m * mag;
      break;
    }
  std::vector<BarTick> ticks;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    ticks.push_back({v, formatTick(v)});
  if (ticks.size() < 2) ticks = {{lo, formatTick(lo)}, {hi, formatTick(hi)}};  // a scale needs two labels
  return ticks;
}

namespace {
void validatePlot(const FigurePlot& p) {
  const auto ordered = [](const ValueRange& r) { return std::isfinite(r.lo) && std::isfinite(r.hi) && r.hi > r.lo; };
  if (!ordered(p.xRange) || !ordered(p.yRange)) throw InputError("figure: a plot needs finite, increasing ranges");
  if (!(p.aspect > 0.1 && p.aspect < 100)) throw InputError("figure: a plot's aspect must be within 0.1..100");
  if (p.fill)
    for (int c : *p.fill)
      if (c < 0 || c > 255) throw InputError("figure: a plot's fill colour is outside 0..255");
  for (const PlotSeries& s : p.series) {
    if (s.x.size() != s.y.size()) throw InputError("figure: a plot series needs as many x as y values");
    for (int c : s.rgb)
      if (c < 0 || c > 255) throw InputError("figure: a plot series' colour is outside 0..255");
    for (int c : s.edge)
      if (c < -1 || c > 255) throw InputError("figure: a plot series' outline colour is outside 0..255");
    if (!(s.lineWidth >= 0 && s.lineWidth < 20) || !(s.markerRadius >= 0 && s.markerRadius < 50))
      throw InputError("figure: a plot series' line width or dot radius is out of range");
    for (size_t i = 0; i < s.x.size(); ++i)
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) throw InputError("figure: a plot point is not finite");
  }
}
}  // namespace

void validateFigureLayout(const FigureLayout& f) {
  const size_t cols = f.columnLabels.size();
  if (f.rowLabels.size() != f.cells.size()) throw InputError("figure: one row label per row expected");
  if (!f.rowBars.empty() && f.rowBars.size() != f.cells.size()) throw InputError("figure: rowBars must match rows");
  if (!f.columnBars.empty() && f.columnBars.size() != cols) throw InputError("figure: columnBars must match columns");
  for (const LegendEntry& e : f.legend) {
    if (e.label.empty()) throw InputError("figure: a legend entry needs a label");
    for (int c : e.rgb)
      if (c < 0 || c > 255) throw InputError("figure: legend colour '" + e.label + "' outside 0..255");
  }
  for (const auto& row : f.cells) {
    if (row.size() != cols) throw InputError("figure: every row needs one cell per column");
    for (const auto& c : row) {
      if (c.kind == CellKind::Overlay && (c.overlay.rgb.type() != CV_8UC3 || c.overlay.rgb.empty()))
        throw InputError("figure: overlay cells need a CV_8UC3 image");
      if (c.kind == CellKind::Plot) validatePlot(c.plot);
      if (c.kind != CellKind::Tiles) continue;
      const auto& t = c.tiles;
      if (t.cols < 1 || t.rows < 1 || int(t.channels.size()) > t.cols * t.rows)
        throw InputError("figure: tile grid too small for its channels");
      if (t.ranges.size() != 1 && t.ranges.size() != t.channels.size())
        throw InputError("figure: tiles need one shared range or one range per tile");
      for (const auto& m : t.channels)
        if (m.type() != CV_32FC1 || m.empty()) throw InputError("figure: tiles must be CV_32F images");
    }
  }
}

std::string modelShortId(const std::string& id) {
  std::string key = id;
  if (id.find('/') != std::string::npos || (id.size() > 5 && id.substr(id.size() - 5) == ".json")) {
    const std::filesystem::path p(id);
    key = p.stem().string();
    if (key == "config" && p.has_parent_path() && !p.parent_path().filename().empty())
      key = p.parent_path().filename().string();
  }
  for (char& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return key.empty() ? "model" : key;
}

std::string modelDisplayName(const LoadedModel& m) {
  const std::string id = m.config.id;
  const fs::model::FamilyTraits& family = fs::model::familyTraits(m.config.family);
  if (!fs::model::findVariant(id)) return family.title + " (" + modelShortId(id) + ")";
  if (family.variantTitle) return family.variantTitle(id);
  return family.title + "-" + upper(id.substr(id.find('_') == std::string::npos ? id.size() : id.find('_') + 1));
}

}  // namespace fs::analysis
