// buildFeatureFigure (figure_layout.h): the paper figure's layout from the models' stage taps, one
// forward (and for contribution ranking one backward) per model, and an optional saliency column.
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
#include <cmath>
#include <numeric>
#include <optional>

namespace fs::analysis {
using fs::model::InputError;

namespace {

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
