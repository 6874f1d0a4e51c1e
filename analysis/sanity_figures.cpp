// The sanity cascade's figures: the paper's Figure 2 (rows of maps as the units are randomised) and
// the similarity curves, for one run or several (sanity --mode both).
#include "analysis/sanity_cascade.h"

#include "analysis/counted.h"
#include "analysis/faithfulness.h"
#include "model/errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fs::analysis {
namespace {

// The map as the paper shows it: the method's sign convention, its own range, its colormap.
cv::Mat colouredMap(const cv::Mat& map, const MapConvention& conv, ValueRange& range) {
  const cv::Mat signedMap = applySign(map, conv.sign);
  range = displayRange(signedMap, conv.sign, conv.clipPercentile);
  if (range.hi - range.lo < 1e-12) range.hi = range.lo + 1e-12;
  return colorize(signedMap, range, conv.colormap);
}

// Tableau-10 colours (RGB), one per method, written into a series' or a key's rgb.
void setMethodColour(size_t i, int (&out)[3]) {
  static const int rgb[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                                 {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  std::copy(rgb[i % 10], rgb[i % 10] + 3, out);
}

// One panel: the mean similarity per method (a line with dots) against depth 0 (original, 1 by
// definition) .. U, on y in [-1, 1] with grid lines at -1, -0.5, 0, 0.5, 1, the x ticks named by
// the units. The first run's lines are solid with filled dots, the others' dashed with open dots.
FigurePlot curvePlot(const std::vector<const SanityCascade*>& runs, const std::string& key) {
  FigurePlot plot;
  const std::vector<std::string>& units = runs.front()->units;
  plot.xRange = {0.0, double(std::max<size_t>(units.size(), 1))};
  plot.yRange = {-1.0, 1.0};
  plot.yGrid = {{-1.0, "-1"}, {-0.5, "-0.5"}, {0.0, "0"}, {0.5, "0.5"}, {1.0, "1"}};
  plot.emphasis = 0.0;
  plot.xTicks.push_back({0.0, "original"});
  for (size_t u = 0; u < units.size(); ++u) plot.xTicks.push_back({double(u + 1), units[u]});
  for (size_t r = 0; r < runs.size(); ++r)
    for (size_t m = 0; m < runs[r]->methods.size(); ++m) {
      PlotSeries s;
      s.x.push_back(0.0), s.y.push_back(1.0);
      for (size_t u = 0; u < units.size(); ++u) {
        const SimilarityMean mean = meanSimilarity(*runs[r], m, u, key);
        if (std::isfinite(mean.value)) s.x.push_back(double(u + 1)), s.y.push_back(mean.value);
      }
      setMethodColour(m, s.rgb);
      s.dashed = s.openMarker = r > 0;
      plot.series.push_back(std::move(s));
    }
  return plot;
}

// The runs of one figure: at least one, the same methods and units in each.
const SanityCascade& checkRuns(const std::vector<const SanityCascade*>& runs) {
  if (runs.empty() || !runs.front()) throw fs::model::InputError("sanity figure: no run");
  for (const SanityCascade* r : runs)
    if (!r || r->methods != runs.front()->methods || r->units != runs.front()->units ||
        r->firstMaps.size() != r->methods.size() || r->scores.empty())
      throw fs::model::InputError("sanity figure: the runs differ in methods or units, or one has no image");
  return *runs.front();
}

// The columns: the original, one per unit (what is randomised), then the comparisons that were run.
void addCascadeColumnLabels(FigureLayout& f, const SanityCascade& c, bool several, bool independent, bool logit,
                            bool data) {
  f.columnLabels.push_back("original\n" + (c.images.empty() ? std::string() : c.images.front()));
  for (size_t u = 0; u < c.units.size(); ++u)
    f.columnLabels.push_back(c.units[u] + "\n" + (several        ? std::string("randomised (row: mode)")
                                                  : independent ? "randomised alone"
                                                  : u == 0      ? "randomised"
                                                                : "+ the units left of it"));
  if (logit) f.columnLabels.push_back("random class\n" + std::to_string(c.otherClasses.front()) + " (target " +
                                      std::to_string(c.targets.front()) + ")");
  if (data) f.columnLabels.push_back("data-randomised\n(permuted labels)");
}

// One map's cell in method m's convention, noting its rank correlation with the original when given.
FigureCell sanityMapCell(const SanityCascade& c, const cv::Mat& map, size_t m, const SimilarityScores* s) {
  FigureCell cell;
  cell.kind = CellKind::Overlay;
  cell.overlay.rgb = colouredMap(map, c.conventions[m], cell.overlay.range);
  cell.overlay.colormap = c.conventions[m].colormap;
  cell.overlay.map = map;
  if (s) {
    char note[64];
    std::snprintf(note, sizeof note, "rank corr. %.2f", s->spearman);
    cell.note = note;
  }
  return cell;
}

// Per method a row per run: its maps as the units are randomised, then the comparisons.
void addCascadeRows(FigureLayout& f, const SanityCascade& c, const std::vector<const SanityCascade*>& runs,
                    bool several, bool logit, bool data) {
  for (size_t m = 0; m < c.methods.size(); ++m)
    for (const SanityCascade* run : runs) {
      f.rowLabels.push_back(c.titles[m] + "\n" + c.methods[m] + (several ? "\n" + modeName(run->mode) : std::string()));
      std::vector<FigureCell> row;
      for (size_t k = 0; k < run->firstMaps[m].size(); ++k)
        row.push_back(sanityMapCell(c, run->firstMaps[m][k], m, k > 0 ? &run->scores.front()[m][k - 1] : nullptr));
      // The comparisons do not depend on the mode: in the first run's row only.
      if (logit) row.push_back(run == &c ? sanityMapCell(c, c.randomLogit.firstMaps[m], m, &c.randomLogit.scores.front()[m]) : FigureCell{});
      if (data) row.push_back(run == &c ? sanityMapCell(c, c.dataRandomised.firstMaps[m], m, &c.dataRandomised.scores.front()[m]) : FigureCell{});
      f.cells.push_back(std::move(row));
    }
}

// The caption: what the columns show for the mode (or the modes), then the comparisons that were run.
void setCascadeCaption(FigureLayout& f, bool several, bool independent, bool logit, bool data) {
  if (several)
    f.caption = "Model-parameter randomisation (Adebayo et al. 2018, Fig. 2 and sec. 3.1), per method a row per mode: "
                "from the left, the map of the trained model, then with units re-initialised (the family's own "
                "initialisation); cascading: the units from the logits down to that column's; independent: only "
                "that column's unit, all others trained.";
  else
    f.caption = independent
                    ? "Independent randomisation (Adebayo et al. 2018, sec. 3.1): from the left, the map of the trained "
                      "model, then with only that unit re-initialised (the family's own initialisation), all others trained."
                    : "Cascading randomisation (Adebayo et al. 2018, Fig. 2): from the left, the map of the trained model, "
                      "then after re-initialising the units from the logits down, one more unit per column (the family's "
                      "own initialisation).";
  if (logit) f.caption += " Random class: the trained model's map for a random other class (Sixt et al. 2020).";
  if (data) f.caption += " Data-randomised: the same architecture trained on permuted labels, same target (Adebayo et al. 2018, sec. 3.2).";
  f.caption += " Each map on its own scale; under it its Spearman rank correlation with the original.";
}

}  // namespace

FigureLayout sanityCascadeFigure(const SanityCascade& c, const std::string& title) {
  return sanityCascadeFigure(std::vector<const SanityCascade*>{&c}, title);
}

namespace {

// The curves' key: one entry per method in its colour (solid, filled: the first run's style), then
// with two runs the two styles in grey.
std::vector<LegendEntry> curvesLegend(const std::vector<const SanityCascade*>& runs, const SanityCascade& c) {
  std::vector<LegendEntry> legend;
  for (size_t m = 0; m < c.methods.size(); ++m) {
    LegendEntry e;
    e.label = c.titles[m] == c.methods[m] ? c.methods[m] : c.titles[m] + " (" + c.methods[m] + ")";
    setMethodColour(m, e.rgb);
    legend.push_back(e);
  }
  if (runs.size() > 1)
    for (size_t r = 0; r < runs.size(); ++r) {
      LegendEntry e;
      e.label = modeName(runs[r]->mode);
      e.rgb[0] = e.rgb[1] = e.rgb[2] = 110;
      e.dashed = e.openMarker = r > 0;
      legend.push_back(e);
    }
  return legend;
}

}  // namespace

FigureLayout sanityCurvesFigure(const SanityCascade& c, const std::string& title) {
  return sanityCurvesFigure(std::vector<const SanityCascade*>{&c}, title);
}

FigureLayout sanityCascadeFigure(const std::vector<const SanityCascade*>& runs, const std::string& title) {
  const SanityCascade& c = checkRuns(runs);
  const bool several = runs.size() > 1;
  const bool independent = c.mode == RandomisationMode::Independent;
  const bool data = !c.dataRandomised.firstMaps.empty(), logit = !c.randomLogit.firstMaps.empty();
  FigureLayout f;
  f.title = title;
  addCascadeColumnLabels(f, c, several, independent, logit, data);
  addCascadeRows(f, c, runs, several, logit, data);
  setCascadeCaption(f, several, independent, logit, data);
  validateFigureLayout(f);
  return f;
}

FigureLayout sanityCurvesFigure(const std::vector<const SanityCascade*>& runs, const std::string& title) {
  const SanityCascade& c = checkRuns(runs);
  const bool several = runs.size() > 1;
  FigureLayout f;
  f.title = title;
  // The x ticks name the units where their labels fit; the whole list once, under the last panel.
  std::string depths = "x: 0 = original";
  for (size_t u = 0; u < c.units.size(); ++u) depths += ", " + std::to_string(u + 1) + " = " + c.units[u];
  const std::string over = "mean similarity to the original map over " + counted(int64_t(c.images.size()), "image");
  f.columnLabels.push_back(over + (several ? "\nvs the unit: cascading = it and those before randomised, "
                                             "independent = it alone (head first)"
                                   : c.mode == RandomisationMode::Independent
                                       ? "\nvs the unit randomised alone (head first)"
                                       : "\nvs the number of units randomised (head first)"));
  const std::vector<std::string> labels{"Spearman rank correlation", "|Spearman| (absolute values)", "SSIM",
                                        "HOG similarity"};
  f.legend = curvesLegend(runs, c);
  for (size_t k = 0; k < similarityKeys().size(); ++k) {
    f.rowLabels.push_back(labels[k]);
    FigureCell cell;
    cell.kind = CellKind::Plot;
    cell.plot = curvePlot(runs, similarityKeys()[k]);
    if (k + 1 == similarityKeys().size()) cell.note = depths;
    f.cells.push_back({cell});
  }
  f.metrics.tileSize = 40.0;
  f.caption = "Mean similarity per method (the key above)." +
              (several ? " Solid lines and filled dots: " + modeName(runs[0]->mode) + "; dashed lines and open dots: " +
                             modeName(runs[1]->mode) + "."
                       : std::string()) +
              " Maps that stay similar as the model is randomised do not depend "
              "on what the model learned.";
  validateFigureLayout(f);
  return f;
}

}  // namespace fs::analysis
