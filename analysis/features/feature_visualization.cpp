#include "analysis/features/feature_visualization.h"

#include "analysis/inference.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <random>

namespace fs::analysis {
namespace {
using fs::model::InputError;

// Lucid's colour_correlation_svd_sqrt (ImageNet), normalised by its largest column norm.
at::Tensor colourCorrelation() {
  const at::Tensor c = at::tensor({0.26f, 0.09f, 0.02f, 0.27f, 0.00f, -0.05f, 0.27f, -0.09f, 0.03f}).view({3, 3});
  return c / c.norm(2, {0}).max();
}

// 1 / max(sqrt(fy^2 + fx^2), 1 / size) for the rfft layout of a size x size image.
at::Tensor spectrumScale(int size) {
  at::Tensor f = at::empty({size, size / 2 + 1});
  auto a = f.accessor<float, 2>();
  for (int y = 0; y < size; ++y)
    for (int x = 0; x <= size / 2; ++x) {
      const double fy = (y <= (size - 1) / 2 ? y : y - size) / double(size);
      const double fx = (x <= (size - 1) / 2 ? x : x - size) / double(size);
      a[y][x] = float(1.0 / std::max(std::sqrt(fy * fy + fx * fx), 1.0 / size));
    }
  return f;
}

// Pad, jitter, scale, rotate, jitter, resize back (Lucid's standard_transforms).
at::Tensor robustnessTransforms(const at::Tensor& img, std::mt19937& rng) {
  const int64_t size = img.size(2);
  at::Tensor x = at::constant_pad_nd(img, {12, 12, 12, 12}, 0.5);
  auto jitter = [&](const at::Tensor& t, int d) {
    std::uniform_int_distribution<int> off(0, d);
    const int64_t h = t.size(2) - d, w = t.size(3) - d;
    return t.narrow(2, off(rng), h).narrow(3, off(rng), w);
  };
  x = jitter(x, 8);
  std::uniform_int_distribution<int> pickScale(0, 10), pickAngle(0, 25);
  const double scale = 1.0 + (pickScale(rng) - 5) / 50.0;
  const int angleIndex = pickAngle(rng);
  const double angle = (angleIndex <= 20 ? angleIndex - 10 : 0) * M_PI / 180.0;
  // Output pixel p samples input point R^-1 p / scale (normalised coordinates).
  const double c = std::cos(angle) / scale, s = std::sin(angle) / scale;
  const at::Tensor theta = at::tensor({float(c), float(-s), 0.f, float(s), float(c), 0.f}).view({1, 2, 3});
  const at::Tensor grid = at::affine_grid_generator(theta.expand({x.size(0), 2, 3}), x.sizes(), false);
  x = at::grid_sampler(x, grid, /*bilinear*/ 0, /*border*/ 1, false);
  x = jitter(x, 4);
  return at::upsample_bilinear2d(x, {size, size}, false);
}

}  // namespace

VisObjective parseVisObjective(const std::string& name) {
  if (name == "channel") return VisObjective::Channel;
  if (name == "neuron") return VisObjective::Neuron;
  if (name == "logit") return VisObjective::Logit;
  throw InputError("unknown objective '" + name + "' (valid: channel, neuron, logit)");
}

at::Tensor fourierImage(const at::Tensor& spectrum, int size, bool greyscale) {
  const at::Tensor scaled = at::view_as_complex(spectrum * spectrumScale(size).unsqueeze(-1));
  const at::Tensor raw = at::fft_irfft2(scaled, at::IntArrayRef{size, size}, {-2, -1}, "ortho") / 4.0;  // [C,S,S]
  if (greyscale) return at::sigmoid(raw).expand({3, size, size});
  // [3, S*S]: each pixel's colour vector times the correlation's transpose.
  const at::Tensor rgb = at::mm(colourCorrelation(), raw.reshape({3, -1})).reshape({3, size, size});
  return at::sigmoid(rgb);
}

at::Tensor gramDiversity(const at::Tensor& activations) {
  const int64_t b = activations.size(0);
  const at::Tensor flat = activations.reshape({b, activations.size(1), -1});
  at::Tensor grams = at::bmm(flat, flat.transpose(1, 2)).reshape({b, -1});
  grams = grams / grams.pow(2).sum(1, true).clamp_min(1e-10).sqrt();
  const at::Tensor cosines = at::mm(grams, grams.t());  // [B,B], the diagonal is 1
  return (cosines.sum() - cosines.diagonal().sum()) / double(b);
}

namespace {

// The objective per sample [B]; the tap's activations in `tap` when asked.
at::Tensor objectiveAndTap(LoadedModel& model, const at::Tensor& images01, const VisOptions& o, at::Tensor* tap) {
  const auto& spec = model.config.input;
  const at::Tensor mean = at::tensor({spec.mean[0], spec.mean[1], spec.mean[2]}).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({spec.std[0], spec.std[1], spec.std[2]}).view({1, 3, 1, 1});
  const at::Tensor x = (images01 - mean) / std;
  if (o.objective == VisObjective::Logit) {
    const auto r = model.net->forward(x, tap ? std::vector<std::string>{o.tap} : std::vector<std::string>{});
    if (tap) *tap = r.taps.at(o.tap);
    const at::Tensor logits = r.logits;
    if (o.channel < 0 || o.channel >= logits.size(1))
      throw InputError("class " + std::to_string(o.channel) + " out of range [0, " + std::to_string(logits.size(1) - 1) + "]");
    return logits.select(1, o.channel);
  }
  const at::Tensor a = model.net->forward(x, {o.tap}).taps.at(o.tap);  // [B,C,h,w]
  if (tap) *tap = a;
  if (o.channel < 0 || o.channel >= a.size(1))
    throw InputError("channel " + std::to_string(o.channel) + " out of range [0, " + std::to_string(a.size(1) - 1) +
                     "] at " + o.tap);
  const at::Tensor ch = a.select(1, o.channel);
  if (o.objective == VisObjective::Neuron) return ch.select(2, a.size(3) / 2).select(1, a.size(2) / 2);
  return ch.mean(at::IntArrayRef{1, 2});
}

// [B, C, S, S/2+1, 2] -> [B, 3, S, S]
at::Tensor fourierImages(const at::Tensor& spectra, int size, bool greyscale) {
  std::vector<at::Tensor> images;
  for (int64_t b = 0; b < spectra.size(0); ++b) images.push_back(fourierImage(spectra[b], size, greyscale));
  return at::stack(images);
}

std::vector<double> values(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

at::Tensor visObjective(LoadedModel& model, const at::Tensor& images01, const VisOptions& o) {
  return objectiveAndTap(model, images01, o, nullptr);
}

VisResult visualizeFeature(LoadedModel& model, const VisOptions& o, const std::function<bool(int, int)>& progress) {
  if (o.samples < 1 || o.samples > 64) throw InputError("visualisation: samples must be within 1..64");
  if (o.objective != VisObjective::Logit || o.samples > 1) findTap(model, o.tap);  // InputError listing the taps
  const int size = o.size > 0 ? o.size : model.config.input.height;
  if (size < 16 || size > 1024) throw InputError("visualisation size must be within 16..1024");
  torch::AutoGradMode enable(true);
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::mt19937 rng(uint32_t(o.seed * 2654435761u + 1));
  const int64_t colours = o.greyscale ? 1 : 3;
  at::Tensor spectrum = (at::randn({o.samples, colours, size, size / 2 + 1, 2}, gen) * 0.01).requires_grad_(true);
  at::Tensor m1 = at::zeros_like(spectrum), m2 = at::zeros_like(spectrum);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  VisResult r;
  {
    at::NoGradGuard none;
    r.initial = visObjective(model, fourierImages(spectrum, size, o.greyscale), o)[0].item<double>();
  }
  for (int step = 1; step <= o.steps; ++step) {
    at::Tensor img = fourierImages(spectrum, size, o.greyscale);
    if (o.transforms) img = robustnessTransforms(img, rng);
    at::Tensor tap;
    at::Tensor loss = -objectiveAndTap(model, img, o, o.samples > 1 ? &tap : nullptr).mean();
    if (o.samples > 1) loss = loss + o.diversityWeight * gramDiversity(tap);
    const at::Tensor g = torch::autograd::grad({loss}, {spectrum})[0];
    {
      at::NoGradGuard none;
      m1.mul_(b1).add_(g, 1 - b1);
      m2.mul_(b2).addcmul_(g, g, 1 - b2);
      const at::Tensor mhat = m1 / (1 - std::pow(b1, step)), vhat = m2 / (1 - std::pow(b2, step));
      spectrum.sub_(o.learningRate * mhat / (vhat.sqrt() + eps));
    }
    if (progress && !progress(step, o.steps)) throw InputError("visualisation: cancelled");
  }
  at::NoGradGuard none;
  r.images = fourierImages(spectrum, size, o.greyscale).contiguous();
  r.image = r.images[0].clone();
  r.activations = values(visObjective(model, r.images, o));
  r.activation = r.activations[0];
  return r;
}

}  // namespace fs::analysis
