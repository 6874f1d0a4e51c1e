#include "analysis/figure_layout.h"

#include "analysis/feature_stats.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "analysis/saliency/saliency_method.h"
#include "analysis/saliency_overlay.h"
#include "model/errors.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>

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

std::string methodTitle(const std::string& name) { return makeSaliencyMethod(name)->title(); }

// What one model contributes to the figure: per stage tap, the shown channels as [k,H,W].
struct ModelStages {
  std::vector<std::string> taps;
  std::vector<at::Tensor> shown;          // float32 [k,H,W], detached
  std::vector<std::vector<int>> channels; // channel indices shown, in tile order
  std::vector<std::string> shapes;        // "256\u00d756\u00d756"
};

std::vector<std::string> stageTaps(LoadedModel& m, const FeatureFigureOptions& o, size_t index) {
  if (o.stages.empty()) return m.net->stages();
  const std::vector<std::string>& wanted = o.stages.size() == 1 ? o.stages[0] : o.stages.at(index);
  for (const auto& t : wanted) findTap(m, t);  // InputError listing the valid taps
  return wanted;
}

std::string shapeText(const at::Tensor& t) {
  return std::to_string(t.size(1)) + "\u00d7" + std::to_string(t.size(2)) + "\u00d7" + std::to_string(t.size(3));
}

// One forward with every stage tap; for contribution ranking one backward from the top-1 logit
// to all taps at once (the input is the grad source: parameters do not require grad).
ModelStages runStages(LoadedModel& m, const at::Tensor& input, const std::vector<std::string>& taps,
                      ChannelRank rank, int k) {
  const bool needGrad = rankNeedsGradient(rank);
  std::vector<at::Tensor> acts, grads;
  if (needGrad) {  // one backward from the top-1 logit to every stage tap (feature_stats.h)
    TapGradients g = tapGradients(m, input, taps);
    acts = std::move(g.activations), grads = std::move(g.gradients);
  } else {
    c10::InferenceMode inference;
    const fs::model::ForwardResult r = m.net->forward(input, taps);
    for (const auto& t : taps) acts.push_back(r.taps.at(t));
  }
  ModelStages s;
  s.taps = taps;
  for (size_t i = 0; i < acts.size(); ++i) {
    const at::Tensor a = acts[i].detach().to(at::kFloat);
    const at::Tensor g = needGrad && grads[i].defined() ? grads[i].detach() : at::zeros_like(a);
    const std::vector<int> order = rankChannels(a, rank, k, needGrad ? g : at::Tensor());
    s.channels.push_back(order);
    s.shown.push_back(a[0].index_select(0, at::tensor(std::vector<int64_t>(order.begin(), order.end()))).clone());
    s.shapes.push_back(shapeText(a));
  }
  return s;
}

std::vector<cv::Mat> toMats(const at::Tensor& shown) {
  const at::Tensor t = shown.contiguous();
  std::vector<cv::Mat> mats;
  for (int64_t c = 0; c < t.size(0); ++c)
    mats.push_back(cv::Mat(int(t.size(1)), int(t.size(2)), CV_32F, t[c].data_ptr<float>()).clone());
  return mats;
}

ColorBar scaleBar(Colormap map, const ValueRange& range, const std::string& label, int maxTicks) {
  return ColorBar{map, range, label, niceTicks(range, maxTicks)};
}

// Stage cells of one column over all models: ranges per the normalisation mode.
void fillStageColumn(FigureLayout& fig, std::vector<ModelStages>& models, size_t col, NormMode norm,
                     const FeatureFigureOptions& o, int gridCols) {
  std::vector<at::Tensor> taps;
  std::vector<std::vector<int>> all;
  std::vector<size_t> rows;
  for (size_t r = 0; r < models.size(); ++r) {
    if (col >= models[r].shown.size()) continue;
    rows.push_back(r);
    taps.push_back(models[r].shown[col]);
    all.emplace_back(models[r].shown[col].size(0));
    std::iota(all.back().begin(), all.back().end(), 0);
  }
  const auto ranges = normalisationRanges(taps, all, norm);
  const Colormap map = parseColormap(o.colormap);
  for (size_t i = 0; i < rows.size(); ++i) {
    const ModelStages& s = models[rows[i]];
    FigureCell& cell = fig.cells[rows[i]][col];
    cell.kind = CellKind::Tiles;
    cell.tiles.channels = toMats(s.shown[col]);
    cell.tiles.cols = std::min<int>(gridCols, int(cell.tiles.channels.size()));
    cell.tiles.rows = (int(cell.tiles.channels.size()) + cell.tiles.cols - 1) / cell.tiles.cols;
    cell.tiles.colormap = map;
    cell.tiles.ranges = norm == NormMode::Channel ? ranges[i] : std::vector<ValueRange>{ranges[i].front()};
    if (o.rank != "first")
      for (int c : s.channels[col]) cell.tiles.tileLabels.push_back("#" + std::to_string(c));
    cell.note = s.taps[col] + "  " + s.shapes[col];
    if (norm == NormMode::Tap) cell.bar = scaleBar(map, ranges[i].front(), "", 3);
  }
  if (norm == NormMode::Shared && !rows.empty())
    fig.columnBars[col] = scaleBar(map, ranges.front().front(), "activation (shared across models)", 4);
}

// Saliency overlay on the original image, cropped to what the model saw.
struct SaliencyCell {
  cv::Mat map;
  std::string note;
  CropGeometry crop;
};

SaliencyCell computeSaliency(LoadedModel& m, const Preprocessed& p, const std::string& method,
                             const MethodParameters& parameters) {
  auto sal = makeSaliencyMethod(method);
  SaliencyOptions options;
  static_cast<MethodParameters&>(options) = parameters;
  const SaliencyResult r = sal->compute(m, p.input, options);
  const std::string index = "class " + std::to_string(r.target);
  const std::string label = r.target < int(m.labels.size()) ? m.labels[r.target] : index;
  const std::string target = label == index ? index : label + " (" + std::to_string(r.target) + ")";
  const std::string note = (r.tap.empty() ? "" : r.tap + "  ") + target;
  return {saliencyMapToMat(r.map2d), note, p.crop};
}

void fillSaliencyColumn(FigureLayout& fig, const std::vector<SaliencyCell>& cells, const cv::Mat& image,
                        NormMode norm, const FeatureFigureOptions& o) {
  const size_t col = fig.columnLabels.size() - 1;
  DisplaySettings d = displaySettings(makeSaliencyMethod(o.saliency)->convention());
  if (!o.saliencyColormap.empty()) d.colormap = parseColormap(o.saliencyColormap);
  std::vector<cv::Mat> maps;
  for (const auto& c : cells) maps.push_back(c.map);
  const ValueRange shared = sharedRange(maps, d.sign, d.clipPercentile);
  for (size_t r = 0; r < cells.size(); ++r) {
    const SaliencyOverlay ov = overlaySaliency(image, cells[r].map, cells[r].crop, d,
                                               norm == NormMode::Shared ? &shared : nullptr);
    const cv::Rect2d rect = cells[r].crop.originalRect();
    const cv::Rect roi = cv::Rect(cvRound(rect.x), cvRound(rect.y), cvRound(rect.width), cvRound(rect.height)) &
                         cv::Rect(0, 0, image.cols, image.rows);
    FigureCell& cell = fig.cells[r][col];
    cell.kind = CellKind::Overlay;
    cell.overlay = FigureOverlay{ov.rgb(roi).clone(), ov.range, d.colormap, cells[r].map};
    cell.note = cells[r].note;
    if (norm != NormMode::Shared) cell.bar = scaleBar(d.colormap, ov.range, "", 3);
  }
  if (norm == NormMode::Shared) fig.columnBars[col] = scaleBar(d.colormap, shared, methodTitle(o.saliency), 4);
}

std::string columnLabel(const std::vector<ModelStages>& models, size_t col, bool automatic) {
  if (automatic) return "Stage " + std::to_string(col + 1);
  std::string name;
  for (const auto& m : models) {
    if (col >= m.taps.size()) continue;
    if (!name.empty() && name != m.taps[col]) return "Tap " + std::to_string(col + 1);
    name = m.taps[col];
  }
  return name;
}

std::string rowLabel(const LoadedModel& m) {
  const std::string weights =
      m.weightsPath.empty() ? "random init" : std::filesystem::path(m.weightsPath).filename().string();
  const bool registered = fs::model::findVariant(m.config.id) != nullptr;
  const std::string name = registered ? modelDisplayName(m) : fs::model::familyTraits(m.config.family).title;
  return name + "\n" + modelShortId(m.config.id) + " \u00b7 " + weights;
}

std::string captionFor(const FeatureFigureOptions& o, int k, NormMode norm) {
  const std::string input = o.imageName.empty() ? "the input" : o.imageName;
  const std::string why = o.rank == "contribution" ? " (gradient \u00d7 activation, top-1 class)" : "";
  const std::string rank = o.rank == "first" ? "the first " + std::to_string(k) + " channels"
                                             : "the top " + std::to_string(k) + " channels by " + o.rank + why;
  const char* normText = norm == NormMode::Channel ? "each tile min-max normalised on its own"
                         : norm == NormMode::Tap  ? "one scale per cell"
                                                  : "one scale per column, shared by all models";
  return "Stage-wise feature maps of " + input + ". Each cell shows " + rank + " of the tap named below it (" +
         normText + ", colormap " + o.colormap + ")" +
         (o.saliency.empty() ? "" : "; last column: " + methodTitle(o.saliency) + " for the top-1 class") + ".";
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

FigureLayout buildFeatureFigure(const std::vector<LoadedModel*>& models, const cv::Mat& image,
                                const FeatureFigureOptions& o) {
  if (models.empty()) throw InputError("figure: at least one model is needed");
  if (!o.stages.empty() && o.stages.size() != 1 && o.stages.size() != models.size())
    throw InputError("figure: give one tap list for all models or one per model");
  const ChannelRank rank = parseChannelRank(o.rank);
  const NormMode norm = parseNormMode(o.norm);
  parseColormap(o.colormap);
  if (!o.saliency.empty()) makeSaliencyMethod(o.saliency);  // InputError listing the methods
  const int k = std::max(1, o.channels);
  const int gridCols = o.gridColumns > 0 ? o.gridColumns : int(std::ceil(std::sqrt(double(k))));
  std::vector<ModelStages> stages;
  std::vector<SaliencyCell> saliency;
  size_t depth = 0;
  for (size_t i = 0; i < models.size(); ++i) {
    const Preprocessed p = preprocess(image, models[i]->config.input);
    validateInput(*models[i], p.input, o.imageName.empty() ? "figure input" : o.imageName);
    stages.push_back(runStages(*models[i], p.input, stageTaps(*models[i], o, i), rank, k));
    depth = std::max(depth, stages.back().taps.size());
    if (!o.saliency.empty()) saliency.push_back(computeSaliency(*models[i], p, o.saliency, o.saliencyParameters));
  }
  FigureLayout fig;
  fig.title = o.title;
  fig.caption = captionFor(o, k, norm);
  for (size_t c = 0; c < depth; ++c) fig.columnLabels.push_back(columnLabel(stages, c, o.stages.empty()));
  if (!o.saliency.empty()) fig.columnLabels.push_back(methodTitle(o.saliency));
  for (const LoadedModel* m : models) fig.rowLabels.push_back(rowLabel(*m));
  fig.cells.assign(models.size(), std::vector<FigureCell>(fig.columnLabels.size()));
  fig.columnBars.assign(fig.columnLabels.size(), std::nullopt);
  for (size_t c = 0; c < depth; ++c) fillStageColumn(fig, stages, c, norm, o, gridCols);
  if (!o.saliency.empty()) fillSaliencyColumn(fig, saliency, image, norm, o);
  if (norm == NormMode::Channel)
    fig.sharedBar = ColorBar{parseColormap(o.colormap), {0.0, 1.0}, "each tile: channel min \u2192 max",
                             {{0.0, "min"}, {1.0, "max"}}};
  return fig;
}

}  // namespace fs::analysis
