// Occlusion's forwards, incremental where the model has a local prefix (occluded_forward.h).
#include "analysis/saliency/occluded_forward.h"

#include "model/environment.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

namespace fs::analysis {
namespace {

int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

// FEATURESCOPE_OCCLUSION: incremental (the default) or full.
bool incrementalAllowed() {
  return fs::model::environmentChoice("FEATURESCOPE_OCCLUSION", {"incremental", "full"}) != "full";
}

// Along one axis of `size` pixels: the prefix cells [first, last] whose field meets [w0, w1).
struct Cells {
  int64_t first, last;
};
Cells reached(int64_t w0, int64_t w1, int64_t size, int64_t stride, int64_t before, int64_t after) {
  return {std::max<int64_t>(0, ceilDiv(w0 - after, stride)),
          std::min<int64_t>(size / stride - 1, floorDiv(w1 - 1 + before, stride))};
}

// Along one axis, what a crop must hold for the window [w0, w1): from `start` (a multiple of the
// stride, at least 0, at or before the first pixel needed) to `last`: the window and the fields of
// the cells it reaches.
struct Need {
  Cells cells;
  int64_t start, last;
};
Need needed(int64_t w0, int64_t w1, int64_t size, int64_t stride, int64_t before, int64_t after) {
  const Cells c = reached(w0, w1, size, stride, before, after);
  const int64_t lo = std::min(w0, stride * c.first - before), hi = std::max(w1 - 1, stride * c.last + after);
  return {c, std::max<int64_t>(0, floorDiv(lo, stride) * stride), hi};
}

// x with each window zeroed: [n, C, rows, cols] from x's [1, C, H, W], window i's crop at
// origin(i) = {row, column}.
template <class Origin>
at::Tensor occludedCrops(const at::Tensor& x, const std::vector<OcclusionWindow>& windows, int64_t begin,
                         int64_t end, int64_t rows, int64_t cols, const Origin& origin) {
  const int64_t channels = x.size(1), height = x.size(2), width = x.size(3), n = end - begin;
  at::Tensor out = at::empty({n, channels, rows, cols}, x.options());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const OcclusionWindow& w = windows[size_t(begin + i)];
    const auto [a, b] = origin(begin + i);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t r = 0; r < rows; ++r) {
        float* line = dst + ((i * channels + c) * rows + r) * cols;
        std::copy_n(src + (c * height + a + r) * width + b, cols, line);
        if (a + r >= w.r0 && a + r < w.r1) std::fill(line + (w.c0 - b), line + (w.c1 - b), 0.0f);
      }
  }
  return out;
}

std::vector<int64_t> windowStarts(int64_t size, int64_t window, int64_t stride) {
  std::vector<int64_t> starts;
  for (int64_t p = 0; p + window <= size; p += stride) starts.push_back(p);
  if (starts.empty() || starts.back() + window < size) starts.push_back(std::max<int64_t>(0, size - window));
  return starts;
}

}  // namespace

std::vector<OcclusionWindow> occlusionWindows(int64_t height, int64_t width, int64_t window, int64_t stride) {
  std::vector<OcclusionWindow> out;
  for (const int64_t y : windowStarts(height, window, stride))
    for (const int64_t x : windowStarts(width, window, stride))
      out.push_back({y, std::min(height, y + window), x, std::min(width, x + window)});
  return out;
}

OccludedForward::OccludedForward(fs::model::ClassifierImpl& net, const at::Tensor& x,
                                 std::vector<OcclusionWindow> windows, int64_t batch)
    : net_(net), x_(x.to(at::kFloat).contiguous()), windows_(std::move(windows)), batch_(std::max<int64_t>(1, batch)) {
  const fs::model::LocalField f = net.localPrefix();
  const int64_t height = x_.size(2), width = x_.size(3), s = f.stride;
  if (!incrementalAllowed() || s <= 0 || height % s || width % s || windows_.empty()) return;
  std::vector<std::pair<Need, Need>> needs;  // rows, columns
  int64_t rows = 0, cols = 0;
  for (const OcclusionWindow& w : windows_) {
    needs.push_back({needed(w.r0, w.r1, height, s, f.before, f.after), needed(w.c0, w.c1, width, s, f.before, f.after)});
    rows = std::max(rows, needs.back().first.last - needs.back().first.start + 1);
    cols = std::max(cols, needs.back().second.last - needs.back().second.start + 1);
  }
  rows = ceilDiv(rows, s) * s, cols = ceilDiv(cols, s) * s;
  if (rows > height || cols > width || 2 * rows * cols > height * width) return;
  torch::NoGradGuard noGrad;
  prefix_ = net_.forwardPrefix(x_, batch_);
  if (prefix_.size(2) * s != height || prefix_.size(3) * s != width) return;  // not the field's grid
  // Each crop starts where its window needs, moved back where it would pass the image's end.
  for (const auto& [r, c] : needs)
    placements_.push_back({std::min(r.start, height - rows), std::min(c.start, width - cols), r.cells.first,
                           r.cells.last, c.cells.first, c.cells.last});
  stride_ = s, cropRows_ = rows, cropCols_ = cols;
}

at::Tensor OccludedForward::reference() {
  torch::NoGradGuard noGrad;
  return incremental() ? net_.logitsFromPrefix(prefix_) : net_.forward(x_, {}).logits;
}

at::Tensor OccludedForward::fullLogits(int64_t begin, int64_t end) {
  const at::Tensor batch = occludedCrops(x_, windows_, begin, end, x_.size(2), x_.size(3),
                                        [](int64_t) { return std::pair<int64_t, int64_t>{0, 0}; });
  return net_.forward(batch, {}).logits;
}

at::Tensor OccludedForward::logits(int64_t begin, int64_t end) {
  torch::NoGradGuard noGrad;
  if (!incremental()) return fullLogits(begin, end);
  const int64_t n = end - begin;
  const at::Tensor crops = occludedCrops(x_, windows_, begin, end, cropRows_, cropCols_, [&](int64_t i) {
    return std::pair<int64_t, int64_t>{placements_[size_t(i)].row0, placements_[size_t(i)].col0};
  });
  const at::Tensor cells = net_.forwardPrefix(crops, batch_);
  if (cells.size(2) * stride_ != cropRows_ || cells.size(3) * stride_ != cropCols_) {
    cropRows_ = cropCols_ = 0;  // the prefix does not keep to its field's grid on crops: full forwards
    return fullLogits(begin, end);
  }
  std::vector<int64_t> shape = prefix_.sizes().vec();
  shape[0] = n;
  const auto format = prefix_.dim() == 4 ? prefix_.suggest_memory_format() : at::MemoryFormat::Contiguous;
  at::Tensor pasted = prefix_.expand(shape).contiguous(format);
  for (int64_t i = 0; i < n; ++i) {
    const Placement& p = placements_[size_t(begin + i)];
    if (p.lastRow < p.firstRow || p.lastCol < p.firstCol) continue;
    const int64_t a = p.row0 / stride_, b = p.col0 / stride_;
    const int64_t nr = p.lastRow - p.firstRow + 1, nc = p.lastCol - p.firstCol + 1;
    pasted[i].narrow(1, p.firstRow, nr).narrow(2, p.firstCol, nc)
        .copy_(cells[i].narrow(1, p.firstRow - a, nr).narrow(2, p.firstCol - b, nc));
  }
  return net_.logitsFromPrefix(pasted);
}

}  // namespace fs::analysis
