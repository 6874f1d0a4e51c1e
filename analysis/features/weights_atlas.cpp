#include "analysis/features/weights_atlas.h"

#include "model/errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <numeric>

namespace fs::analysis {
namespace {
using fs::model::InputError;

at::Tensor parameter(const LoadedModel& m, const std::string& name) {
  const auto params = m.net->named_parameters(true);
  const at::Tensor* p = params.find(name);
  if (!p) throw InputError(m.config.id + ": no parameter '" + name + "'");
  return p->detach().to(at::kFloat).contiguous().clone();
}

std::vector<int64_t> identity(int64_t n) {
  std::vector<int64_t> v(size_t(n), 0);
  std::iota(v.begin(), v.end(), int64_t(0));
  return v;
}

AtlasPanel rgbFilters(const LoadedModel& m, const std::string& name, const std::string& title) {
  AtlasPanel p{title, name, AtlasKind::RgbFilters, parameter(m, name), {}, 0};
  p.order = identity(p.values.size(0));
  return p;
}

AtlasPanel kernelPanel(const LoadedModel& m, const std::string& name, const std::string& title) {
  AtlasPanel p{title, name, AtlasKind::Kernels, parameter(m, name), {}, 0};
  p.order = identity(p.values.size(0));
  return p;
}

AtlasPanel gridRows(const LoadedModel& m, const std::string& name, const std::string& title, AtlasKind kind,
                    int side, bool paired) {
  const at::Tensor w = parameter(m, name);  // [rows, side*side]
  if (w.dim() != 2 || w.size(1) != int64_t(side) * side)
    throw InputError(m.config.id + ": '" + name + "' is not [rows, " + std::to_string(side * side) + "]");
  AtlasPanel p{title, name, kind, {}, paired ? pairByOppositePhase(w, side) : identity(w.size(0)), side};
  const at::Tensor index = at::tensor(p.order, at::kLong);
  p.values = w.index_select(0, index).reshape({w.size(0), 1, side, side}).contiguous();
  return p;
}

// Power-weighted mean radial frequency of a side x side filter, DC excluded (cycles per grid).
double radialFrequency(const float* f, int side) {
  double power = 0, weighted = 0;
  for (int u = 0; u < side; ++u)
    for (int v = 0; v < side; ++v) {
      if (u == 0 && v == 0) continue;
      double re = 0, im = 0;
      for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
          const double a = -2.0 * M_PI * (double(u) * y + double(v) * x) / side;
          re += f[y * side + x] * std::cos(a), im += f[y * side + x] * std::sin(a);
        }
      const double fu = std::min(u, side - u), fv = std::min(v, side - v);
      const double pw = re * re + im * im;
      power += pw, weighted += pw * std::sqrt(fu * fu + fv * fv);
    }
  return power > 0 ? weighted / power : 0.0;
}

cv::Mat tileMat(const at::Tensor& t) {  // [h, w] float32 contiguous
  return cv::Mat(int(t.size(0)), int(t.size(1)), CV_32F, const_cast<float*>(t.data_ptr<float>())).clone();
}

// Each filter scaled by its own largest |w| to [0, 1] (0.5 = zero), upscaled by `zoom`, white gaps.
cv::Mat rgbMosaic(const at::Tensor& filters, int count, int cols, int zoom) {
  const int k = int(filters.size(2)), kw = int(filters.size(3)), rows = (count + cols - 1) / cols;
  const int gap = std::max(1, zoom / 4);
  cv::Mat out(rows * (k * zoom + gap) - gap, cols * (kw * zoom + gap) - gap, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int t = 0; t < count; ++t) {
    const at::Tensor f = filters[t];  // [3, k, kw]
    const double m = std::max(1e-12, f.abs().max().item<double>());
    const auto a = f.accessor<float, 3>();
    const int oy = (t / cols) * (k * zoom + gap), ox = (t % cols) * (kw * zoom + gap);
    for (int y = 0; y < k * zoom; ++y)
      for (int x = 0; x < kw * zoom; ++x) {
        auto& px = out.at<cv::Vec3b>(oy + y, ox + x);
        for (int c = 0; c < 3; ++c)
          px[c] = cv::saturate_cast<uchar>(255.0 * (0.5 + a[c][y / zoom][x / zoom] / (2.0 * m)));
      }
  }
  return out;
}

}  // namespace

const char* atlasKindName(AtlasKind kind) {
  switch (kind) {
    case AtlasKind::RgbFilters: return "rgb_filters";
    case AtlasKind::Kernels: return "kernels";
    case AtlasKind::TokenMixing: return "token_mixing";
    case AtlasKind::CrossPatch: return "cross_patch";
  }
  return "kernels";
}

std::vector<int64_t> pairByOppositePhase(const at::Tensor& units, int side) {
  const at::Tensor u = units.to(at::kDouble).contiguous();
  const int64_t n = u.size(0);
  const at::Tensor unit = u / u.norm(2, {1}, true).clamp_min(1e-12);
  const at::Tensor cosine = at::mm(unit, unit.t()).contiguous();
  const auto c = cosine.accessor<double, 2>();
  std::vector<bool> used(size_t(n), false);
  std::vector<std::vector<int64_t>> pairs;
  for (int64_t i = 0; i < n; ++i) {
    if (used[size_t(i)]) continue;
    used[size_t(i)] = true;
    int64_t best = -1;
    for (int64_t j = i + 1; j < n; ++j)
      if (!used[size_t(j)] && (best < 0 || c[i][j] < c[i][best])) best = j;
    if (best >= 0) used[size_t(best)] = true;
    pairs.push_back(best >= 0 ? std::vector<int64_t>{i, best} : std::vector<int64_t>{i});
  }
  const at::Tensor f32 = units.to(at::kFloat).contiguous();
  std::vector<double> freq;
  for (const auto& p : pairs) {
    double s = 0;
    for (int64_t i : p) s += radialFrequency(f32[i].data_ptr<float>(), side);
    freq.push_back(s / double(p.size()));
  }
  std::vector<size_t> idx(pairs.size());
  std::iota(idx.begin(), idx.end(), size_t(0));
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return freq[a] < freq[b]; });
  std::vector<int64_t> order;
  for (size_t i : idx) order.insert(order.end(), pairs[i].begin(), pairs[i].end());
  return order;
}

std::vector<AtlasPanel> weightsAtlas(const LoadedModel& model) {
  const auto& c = model.config;
  std::vector<AtlasPanel> out;
  if (c.family == "resnet") {
    out.push_back(rgbFilters(model, "conv1.weight", "conv1\nfirst-layer filters"));
  } else if (c.family == "convmlp" || c.family == "puremlp") {
    out.push_back(rgbFilters(model, "tokenizer.block.0.weight", "tokenizer.block.0\nfirst-layer filters"));
    if (c.family == "convmlp")
      for (size_t s = 0; s < c.blocks.size(); ++s)
        for (int b = 0; b < c.blocks[s]; ++b) {
          const std::string name = "stages." + std::to_string(s) + ".blocks." + std::to_string(b) + ".connect.weight";
          out.push_back(kernelPanel(model, name, "stage " + std::to_string(s) + " block " + std::to_string(b) + "\ndepthwise 3x3"));
        }
  } else if (c.family == "mlp_mixer" || c.family == "resmlp") {
    const int side = c.imgSize / c.patchSize;
    const bool mixer = c.family == "mlp_mixer";
    const int blocks = mixer ? std::min(3, c.numBlocks) : c.numBlocks;
    for (int b = 0; b < blocks; ++b) {
      const std::string p = "blocks." + std::to_string(b);
      out.push_back(mixer ? gridRows(model, p + ".mlp_tokens.fc1.weight", p + "\ntoken-mixing units",
                                     AtlasKind::TokenMixing, side, true)
                          : gridRows(model, p + ".linear_tokens.weight", p + "\ncross-patch rows",
                                     AtlasKind::CrossPatch, side, false));
    }
  } else if (c.family == "vit" || c.family == "deit" || c.family == "swin") {
    // The patch embedding is the first layer: one RGB filter per embedding dimension.
    out.push_back(rgbFilters(model, "patch_embed.proj.weight", "patch_embed.proj\nfirst-layer filters"));
  } else if (c.family == "convnext") {
    out.push_back(rgbFilters(model, "stem.0.weight", "stem.0\nfirst-layer filters"));
    for (size_t s = 0; s < c.depths.size(); ++s)
      for (int b = 0; b < c.depths[s]; ++b) {
        const std::string name = "stages." + std::to_string(s) + ".blocks." + std::to_string(b) + ".conv_dw.weight";
        const std::string k = std::to_string(c.kernelSize);
        out.push_back(kernelPanel(model, name, "stage " + std::to_string(s) + " block " + std::to_string(b) + "\ndepthwise " + k + "x" + k));
      }
  } else {
    throw InputError(c.id + ": no weights atlas for the family '" + c.family + "'");
  }
  return out;
}

namespace {

// The panel's tiles shown (indices into p.values) and the columns they are laid out in: the
// central 6 x 6 patches of a cross-patch grid, else the first maxTiles in a near-square grid
// (token-mixing units in pairs side by side).
std::vector<int64_t> atlasTiles(const AtlasPanel& p, int maxTiles, int& cols) {
  std::vector<int64_t> tiles;
  if (p.kind == AtlasKind::CrossPatch) {
    const int show = std::min(p.gridSide, 6), first = (p.gridSide - show) / 2;
    for (int y = first; y < first + show; ++y)
      for (int x = first; x < first + show; ++x) tiles.push_back(int64_t(y) * p.gridSide + x);
    cols = show;
    return tiles;
  }
  const int64_t n = std::min<int64_t>(p.values.size(0), maxTiles);
  for (int64_t t = 0; t < n; ++t) tiles.push_back(t);
  cols = int(std::ceil(std::sqrt(double(n))));
  if (p.kind == AtlasKind::TokenMixing && cols % 2) ++cols;  // pairs side by side
  return tiles;
}

// One panel's figure cell: an RGB mosaic overlay, or diverging tiles each on its own symmetric scale.
FigureCell atlasCell(const AtlasPanel& p, int maxTiles) {
  FigureCell cell;
  int cols = 0;
  const std::vector<int64_t> tiles = atlasTiles(p, maxTiles, cols);
  const int count = int(tiles.size()), rows = (count + cols - 1) / cols;
  if (p.kind == AtlasKind::RgbFilters) {
    cell.kind = CellKind::Overlay;
    cell.overlay.rgb = rgbMosaic(p.values, count, cols, std::max(1, 96 / int(p.values.size(2))));
    cell.overlay.range = {-1.0, 1.0};
    cell.overlay.colormap = Colormap::Gray;
  } else {
    cell.kind = CellKind::Tiles;
    cell.tiles.cols = cols, cell.tiles.rows = rows, cell.tiles.colormap = Colormap::Diverging;
    for (int64_t t : tiles) {
      const at::Tensor v = p.values[t][0].contiguous();
      cell.tiles.channels.push_back(tileMat(v));
      const double m = std::max(1e-12, v.abs().max().item<double>());
      cell.tiles.ranges.push_back({-m, m});
      if (count <= 16) cell.tiles.tileLabels.push_back("#" + std::to_string(p.order[size_t(t)]));
    }
  }
  cell.note = p.parameter + " " + c10::str(p.values.sizes());
  if (p.kind == AtlasKind::CrossPatch && count < p.values.size(0))
    cell.note += ", central " + std::to_string(cols) + "x" + std::to_string(cols) + " patches shown";
  else if (count < p.values.size(0))
    cell.note += ", first " + std::to_string(count) + " shown";
  return cell;
}

}  // namespace

FigureLayout atlasFigure(const LoadedModel& model, const std::vector<AtlasPanel>& panels, int maxTiles) {
  FigureLayout f;
  f.title = "Weights atlas: " + modelDisplayName(model);
  f.columnLabels = {"weights"};
  // A row of overlays only is 3 tiles high: larger tiles when every panel is an RGB mosaic.
  const bool onlyRgb = std::all_of(panels.begin(), panels.end(),
                                   [](const AtlasPanel& p) { return p.kind == AtlasKind::RgbFilters; });
  f.metrics.tileSize = onlyRgb ? 48.0 : 14.0, f.metrics.tileGap = 1.0;
  for (const auto& p : panels) {
    f.rowLabels.push_back(p.title);
    f.cells.push_back({atlasCell(p, maxTiles)});
  }
  const std::string source = model.weightsPath.empty() ? "random init, seed " + std::to_string(model.seed)
                                                       : std::filesystem::path(model.weightsPath).filename().string();
  f.caption = "Values are the checkpoint's parameters (" + source +
              "); kernels and token-mixing units on a symmetric diverging scale per tile (blue < 0 < red); "
              "RGB filters scaled per filter, grey = 0.";
  return f;
}

}  // namespace fs::analysis
