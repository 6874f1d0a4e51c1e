#include "analysis/features/effective_rf.h"

#include "analysis/colormap.h"
#include "analysis/counted.h"
#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace fs::analysis {

double massRadius(const at::Tensor& map, double cy, double cx, double fraction) {
  const at::Tensor m = map.to(at::kDouble).contiguous();
  const int64_t h = m.size(0), w = m.size(1);
  const double* v = m.data_ptr<double>();
  std::vector<double> dist(size_t(h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) dist[size_t(y * w + x)] = std::hypot(double(y) - cy, double(x) - cx);
  std::vector<size_t> order(dist.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dist[a] < dist[b]; });
  double total = 0;
  for (size_t i : order) total += v[i];
  if (!(total > 0)) return 0.0;
  double cumulative = 0;
  for (size_t i : order) {
    cumulative += v[i];
    if (cumulative >= fraction * total) return dist[i];
  }
  return dist[order.back()];
}

std::vector<ErfMap> effectiveReceptiveFields(LoadedModel& model, const std::vector<std::string>& taps,
                                             const ImageSource& source, int batchSize,
                                             const std::function<bool(int64_t, int64_t)>& progress) {
  if (taps.empty()) throw fs::model::InputError("effective receptive field: no taps chosen");
  if (source.count < 1) throw fs::model::InputError(source.description + ": no images");
  std::vector<ErfMap> out;
  std::vector<at::Tensor> sums;
  for (const auto& t : taps) {
    ErfMap e;
    e.tap = t, e.rf = receptiveField(model, t);
    out.push_back(e);
  }
  torch::AutoGradMode enable(true);
  const auto& spec = model.config.input;
  for (int64_t begin = 0; begin < source.count; begin += batchSize) {
    const int64_t end = std::min(source.count, begin + batchSize);
    const at::Tensor x = source.batch(begin, end, spec).detach().requires_grad_(true);
    const auto r = model.net->forward(x, taps);
    for (size_t i = 0; i < taps.size(); ++i) {
      const at::Tensor a = r.taps.at(taps[i]);  // [B,C,h,w]
      ErfMap& e = out[i];
      e.cellY = int(a.size(2) / 2), e.cellX = int(a.size(3) / 2);
      const at::Tensor centre = a.select(3, e.cellX).select(2, e.cellY).sum();
      const at::Tensor g = torch::autograd::grad({centre}, {x}, {}, /*retain_graph=*/i + 1 < taps.size())[0];
      const at::Tensor batchSum = g.abs().to(at::kDouble).sum(at::IntArrayRef{0, 1});  // images, colours
      if (sums.size() <= i) sums.push_back(batchSum);
      else sums[i] += batchSum;
    }
    if (progress && !progress(end, source.count)) throw fs::model::InputError("effective receptive field: cancelled");
  }
  for (size_t i = 0; i < out.size(); ++i) {
    ErfMap& e = out[i];
    e.images = source.count;
    e.map = (sums[i] / double(source.count)).to(at::kFloat).contiguous();
    e.centreY = e.rf.centre(e.cellY), e.centreX = e.rf.centre(e.cellX);
    e.radius50 = massRadius(e.map, e.centreY, e.centreX, 0.5);
    e.radius90 = massRadius(e.map, e.centreY, e.centreX, 0.9);
  }
  return out;
}

namespace {

cv::Mat erfImage(const ErfMap& e) {
  const at::Tensor m = e.map.contiguous();
  const cv::Mat values(int(m.size(0)), int(m.size(1)), CV_32F, const_cast<float*>(m.data_ptr<float>()));
  double hi = 0;
  cv::minMaxLoc(values, nullptr, &hi);
  cv::Mat rgb = colorize(values, {0.0, hi > 0 ? hi : 1.0}, Colormap::Inferno);
  const int zoom = std::max(1, 256 / std::max(rgb.cols, rgb.rows));
  cv::resize(rgb, rgb, cv::Size(), zoom, zoom, cv::INTER_NEAREST);
  const PixelBox b = receptiveBox(e.rf, e.cellY, e.cellX, int(m.size(0)), int(m.size(1)));
  cv::rectangle(rgb, cv::Rect(b.x0 * zoom, b.y0 * zoom, b.width() * zoom - 1, b.height() * zoom - 1),
                cv::Scalar(255, 255, 255), 1);
  const cv::Point c(int(std::lround((e.centreX + 0.5) * zoom)), int(std::lround((e.centreY + 0.5) * zoom)));
  for (double r : {e.radius50, e.radius90})
    cv::circle(rgb, c, std::max(1, int(std::lround(r * zoom))), cv::Scalar(0, 255, 255), 1, cv::LINE_AA);
  return rgb;
}

std::string erfNote(const ErfMap& e) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << e.tap << ": TRF " << (e.rf.global ? std::string("global") : std::to_string(e.rf.size) + " px") << ", r50 "
    << e.radius50 << ", r90 " << e.radius90 << " px";
  return s.str();
}

}  // namespace

FigureLayout erfFigure(const std::vector<std::string>& modelNames, const std::vector<std::vector<ErfMap>>& maps,
                       const std::string& sourceDescription) {
  FigureLayout f;
  f.title = "Effective receptive fields";
  size_t columns = 0;
  for (const auto& row : maps) columns = std::max(columns, row.size());
  for (size_t c = 0; c < columns; ++c) f.columnLabels.push_back("Stage " + std::to_string(c + 1));
  for (size_t r = 0; r < maps.size(); ++r) {
    f.rowLabels.push_back(modelNames[r]);
    std::vector<FigureCell> row(columns);
    for (size_t c = 0; c < maps[r].size(); ++c) {
      row[c].kind = CellKind::Overlay;
      row[c].overlay.rgb = erfImage(maps[r][c]);
      row[c].overlay.range = {0.0, 1.0};
      row[c].overlay.colormap = Colormap::Inferno;
      row[c].note = erfNote(maps[r][c]);
    }
    f.cells.push_back(row);
  }
  f.metrics.tileSize = 28.0;
  const int64_t n = maps.empty() || maps[0].empty() ? 0 : maps[0][0].images;
  f.caption = "Luo et al. 2016: |d(centre activation, summed over channels) / d input|, summed over colour "
              "channels and averaged over " + counted(n, "image") + " of the " + sourceDescription +
              "; each map scaled to its maximum. White: theoretical receptive field (TRF) of the centre cell; "
              "cyan: discs holding 50% and 90% of the mass (r50, r90).";
  return f;
}

}  // namespace fs::analysis
