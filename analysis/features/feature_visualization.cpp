#include "analysis/features/feature_visualization.h"

#include "analysis/inference.h"
#include "model/errors.h"
#include "model/family.h"
#include "model/redirected_relu.h"
#include "model/registry.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <optional>
#include <ctime>
#include <random>

namespace fs::analysis {
namespace {
using fs::model::InputError;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double processCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

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

// Lucid's parametrisation with its constants built once: spectra [B, C, S, S/2+1, 2] -> images
// [B, C', S, S] in [0, 1], C' = 1 for greyscale (replicated to RGB by the normalisation's
// broadcast), else 3.
struct FourierParam {
  int size;
  bool greyscale;
  at::Tensor scale = spectrumScale(size).unsqueeze(-1);
  at::Tensor colour = colourCorrelation();

  at::Tensor operator()(const at::Tensor& spectra) const {
    const at::Tensor scaled = at::view_as_complex(spectra * scale);
    const at::Tensor raw = at::fft_irfft2(scaled, at::IntArrayRef{size, size}, {-2, -1}, "ortho") / 4.0;
    if (greyscale) return at::sigmoid(raw);
    // Each pixel's colour vector times the correlation's transpose, all samples in one product.
    const int64_t b = raw.size(0);
    return at::sigmoid(at::matmul(colour, raw.reshape({b, 3, -1})).reshape({b, 3, size, size}));
  }
};

at::Tensor toRgb(const at::Tensor& images) {
  return images.size(1) == 1 ? images.expand({images.size(0), 3, images.size(2), images.size(3)}) : images;
}

// Pad, jitter, scale, rotate, jitter, resize back (Lucid's standard_transforms); each channel alike.
// Lucid's pixel amounts (pad 12, jitter 8 and 4) are for 224-pixel inputs: they scale with the image
// (pad 6, jitter 4 and 2 at 112), so a transform moves the image by the same fraction of its side.
at::Tensor robustnessTransforms(const at::Tensor& img, std::mt19937& rng) {
  const int64_t size = img.size(2);
  const auto px = [size](int v) { return std::max(1, int(std::lround(v * double(size) / 224.0))); };
  const int pad = px(12);
  at::Tensor x = at::constant_pad_nd(img, {pad, pad, pad, pad}, 0.5);
  auto jitter = [&](const at::Tensor& t, int d) {
    std::uniform_int_distribution<int> off(0, d);
    const int64_t h = t.size(2) - d, w = t.size(3) - d;
    return t.narrow(2, off(rng), h).narrow(3, off(rng), w);
  };
  x = jitter(x, px(8));
  std::uniform_int_distribution<int> pickScale(0, 10), pickAngle(0, 25);
  const double scale = 1.0 + (pickScale(rng) - 5) / 50.0;
  const int angleIndex = pickAngle(rng);
  const double angle = (angleIndex <= 20 ? angleIndex - 10 : 0) * M_PI / 180.0;
  // Output pixel p samples input point R^-1 p / scale (normalised coordinates).
  const double c = std::cos(angle) / scale, s = std::sin(angle) / scale;
  const at::Tensor theta = at::tensor({float(c), float(-s), 0.f, float(s), float(c), 0.f}).view({1, 2, 3});
  const at::Tensor grid = at::affine_grid_generator(theta.expand({x.size(0), 2, 3}), x.sizes(), false);
  x = at::grid_sampler(x, grid, /*bilinear*/ 0, /*border*/ 1, false);
  x = jitter(x, px(4));
  return at::upsample_bilinear2d(x, {size, size}, false);
}

}  // namespace

at::Tensor fourierImage(const at::Tensor& spectrum, int size, bool greyscale) {
  return toRgb(FourierParam{size, greyscale}(spectrum.unsqueeze(0)))[0];
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

// The objective as terms, checked against the model, with every tap its forward must collect.
struct Objective {
  std::vector<VisTerm> terms;
  at::Tensor perSample;      // int64 [B]: sample b's channel (VisOptions::channels), else undefined
  std::vector<std::string> taps;
  std::string diversityTap;  // empty: no diversity term
  at::Tensor mean, std;      // [1, 3, 1, 1]
};

Objective makeObjective(const LoadedModel& model, const VisOptions& o) {
  Objective obj;
  if (o.objective == VisObjective::Sum) {
    if (o.terms.empty()) throw InputError("visualisation: the sum objective needs at least one term (--terms)");
    obj.terms = o.terms;
  } else {
    obj.terms = {VisTerm{o.objective, o.tap, o.channel, 1.0}};
  }
  for (const VisTerm& t : obj.terms) {
    if (t.kind == VisObjective::Sum) throw InputError("visualisation: a term cannot itself be a sum");
    if (t.kind == VisObjective::Logit) {
      if (t.channel < 0 || t.channel >= model.config.numClasses)
        throw InputError("class " + std::to_string(t.channel) + " out of range [0, " +
                         std::to_string(model.config.numClasses - 1) + "]");
      continue;
    }
    const fs::model::TapInfo info = findTap(model, t.tap);  // InputError listing the taps
    if (t.channel < 0 || t.channel >= info.channels)
      throw InputError("channel " + std::to_string(t.channel) + " out of range [0, " +
                       std::to_string(info.channels - 1) + "] at " + t.tap);
    obj.taps.push_back(t.tap);
  }
  if (!o.channels.empty()) {
    if (o.objective != VisObjective::Channel && o.objective != VisObjective::Neuron)
      throw InputError("visualisation: one image per channel needs the channel or neuron objective");
    if (o.samples > 1) throw InputError("visualisation: one image per channel goes without the diversity samples");
    const int channels = findTap(model, o.tap).channels;
    for (int c : o.channels)
      if (c < 0 || c >= channels)
        throw InputError("channel " + std::to_string(c) + " out of range [0, " + std::to_string(channels - 1) +
                         "] at " + o.tap);
    obj.perSample = at::tensor(std::vector<int64_t>(o.channels.begin(), o.channels.end()));
    obj.terms.front().channel = o.channels.front();
  }
  if (o.samples > 1) {
    obj.diversityTap = !o.tap.empty() || obj.taps.empty() ? o.tap : obj.taps.front();
    findTap(model, obj.diversityTap);
    obj.taps.push_back(obj.diversityTap);
  }
  const auto& spec = model.config.input;
  obj.mean = at::tensor({spec.mean[0], spec.mean[1], spec.mean[2]}).view({1, 3, 1, 1});
  obj.std = at::tensor({spec.std[0], spec.std[1], spec.std[2]}).view({1, 3, 1, 1});
  return obj;
}

// The objective per sample [B] for images [B, 1 or 3, H, W] in [0, 1]; the diversity tap's
// activations in `tap` when asked.
at::Tensor evaluate(LoadedModel& model, const Objective& obj, const at::Tensor& images01, at::Tensor* tap) {
  // A model whose token grid fixes its input size sees the image resized to that size (--size S).
  at::Tensor x = images01;
  const auto& in = model.config.input;
  if (fs::model::familyTraits(model.config.family).fixedInputSize && (x.size(2) != in.height || x.size(3) != in.width))
    x = at::upsample_bilinear2d(x, {in.height, in.width}, false);
  const auto r = model.net->forward((x - obj.mean) / obj.std, obj.taps);
  if (tap) *tap = r.taps.at(obj.diversityTap);
  at::Tensor total;
  for (const VisTerm& t : obj.terms) {
    at::Tensor v;
    if (t.kind == VisObjective::Logit) {
      v = r.logits.select(1, t.channel);
    } else {
      const at::Tensor& a = r.taps.at(t.tap);  // [B,C,h,w]
      // [B,h,w]: the term's channel, or each sample's own (a[b, perSample[b]]).
      const at::Tensor ch = obj.perSample.defined() && obj.perSample.size(0) == a.size(0)
                                ? at::index(a, {at::arange(a.size(0)), obj.perSample})
                                : a.select(1, t.channel);
      v = t.kind == VisObjective::Neuron ? ch.select(2, a.size(3) / 2).select(1, a.size(2) / 2)
                                         : ch.mean(at::IntArrayRef{1, 2});
    }
    if (t.weight != 1.0) v = v * t.weight;
    total = total.defined() ? total + v : v;
  }
  return total;
}

// Intra-op threads for the optimisation, restored afterwards (OpenMP keeps the count per thread).
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(at::get_num_threads()) {
    if (threads > 0 && threads != previous_) at::set_num_threads(threads);
  }
  ~ThreadScope() {
    if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

int visThreads(LoadedModel& model, const VisOptions& o, int size, int64_t batch) {
  if (o.threads > 0) return o.threads;
  const double scale = double(size) * size / (double(model.config.input.height) * model.config.input.width);
  const double macs = double(fs::model::countMacs(*model.net, model.config)) * scale * double(batch);
  return macs < kVisSingleThreadMacs ? 1 : 0;
}

std::vector<double> values(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

at::Tensor visObjective(LoadedModel& model, const at::Tensor& images01, const VisOptions& o) {
  return evaluate(model, makeObjective(model, o), images01, nullptr);
}

namespace {

// Rejects a sample count outside 1..64 and more than 256 channels at once.
void checkFeatureVisCounts(const VisOptions& o) {
  if (o.samples < 1 || o.samples > 64) throw InputError("visualisation: samples must be within 1..64");
  if (o.channels.size() > 256) throw InputError("visualisation: at most 256 channels at once");
}

// The image side: --size, else the model's input height; within 16..1024.
int featureVisSize(const LoadedModel& model, const VisOptions& o) {
  const int size = o.size > 0 ? o.size : model.config.input.height;
  if (size < 16 || size > 1024) throw InputError("visualisation size must be within 16..1024");
  return size;
}

// The starting spectra [B, C, S, S/2+1, 2]: small noise from the seed's generator, requiring grad.
at::Tensor featureVisStartSpectrum(const VisOptions& o, int64_t batch, int size, const at::Generator& gen) {
  const int64_t colours = o.greyscale ? 1 : 3;
  // One image per channel: every image starts from the seed's single-sample noise.
  at::Tensor spectrum = at::randn({o.channels.empty() ? batch : 1, colours, size, size / 2 + 1, 2}, gen) * 0.01;
  if (!o.channels.empty()) spectrum = spectrum.repeat({batch, 1, 1, 1, 1});
  spectrum.requires_grad_(true);
  return spectrum;
}

// Adam as torch.optim.Adam (Lucent's optimiser): m, v, and the denominator's buffer reused.
struct FeatureVisAdam {
  at::Tensor m1, m2, denom;
};

// One Adam step (step counts from 1) on the spectra with gradient g, outside autograd.
void featureVisAdamUpdate(FeatureVisAdam& adam, at::Tensor& spectrum, const at::Tensor& g, int step,
                          const VisOptions& o) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  at::NoGradGuard none;
  adam.m1.mul_(b1).add_(g, 1 - b1);
  adam.m2.mul_(b2).addcmul_(g, g, 1 - b2);
  at::sqrt_out(adam.denom, adam.m2).div_(std::sqrt(1 - std::pow(b2, step))).add_(eps);
  spectrum.addcdiv_(adam.m1, adam.denom, -o.learningRate / (1 - std::pow(b1, step)));
}

// The first sample's objective on the images of the spectra, outside autograd.
double featureVisInitial(LoadedModel& model, const Objective& obj, const FourierParam& fourier,
                         const at::Tensor& spectrum) {
  at::NoGradGuard none;
  return evaluate(model, obj, fourier(spectrum), nullptr)[0].item<double>();
}

// The loss to minimise on images [B, C, S, S]: the negated objective, plus the diversity term.
at::Tensor featureVisLoss(LoadedModel& model, const Objective& obj, const VisOptions& o, const at::Tensor& img) {
  at::Tensor tap;
  // Lucid averages over the batch; one image per channel sums, so each image's gradient is its own.
  const at::Tensor objective = evaluate(model, obj, img, o.samples > 1 ? &tap : nullptr);
  at::Tensor loss = o.channels.empty() ? -objective.mean() : -objective.sum();
  if (o.samples > 1) loss = loss + o.diversityWeight * gramDiversity(tap);
  return loss;
}

// One optimisation step: image, transforms, loss, gradient and Adam update, each section timed.
void featureVisStep(LoadedModel& model, const Objective& obj, const VisOptions& o, const FourierParam& fourier,
                    at::Tensor& spectrum, FeatureVisAdam& adam, std::mt19937& rng, int step, VisTimings& time) {
  auto t0 = Clock::now();
  at::Tensor img = fourier(spectrum);
  time.image += since(t0), t0 = Clock::now();
  if (o.transforms) img = robustnessTransforms(img, rng);
  time.transforms += since(t0), t0 = Clock::now();
  const at::Tensor loss = featureVisLoss(model, obj, o, img);
  time.forward += since(t0), t0 = Clock::now();
  const at::Tensor g = torch::autograd::grad({loss}, {spectrum})[0];
  time.backward += since(t0), t0 = Clock::now();
  featureVisAdamUpdate(adam, spectrum, g, step, o);
  time.update += since(t0);
}

// The final images (RGB) of the spectra and their objectives, the first sample's also on its own.
void featureVisFinish(LoadedModel& model, const Objective& obj, const FourierParam& fourier,
                      const at::Tensor& spectrum, VisResult& r) {
  r.images = toRgb(fourier(spectrum)).contiguous();
  r.image = r.images[0].clone();
  r.activations = values(evaluate(model, obj, r.images, nullptr));
  r.activation = r.activations[0];
}

}  // namespace

VisResult visualizeFeature(LoadedModel& model, const VisOptions& o, const std::function<bool(int, int)>& progress) {
  const auto start = Clock::now();
  const double cpuStart = processCpuSeconds();
  checkFeatureVisCounts(o);
  const Objective obj = makeObjective(model, o);
  const int64_t batch = o.channels.empty() ? o.samples : int64_t(o.channels.size());
  const int size = featureVisSize(model, o);
  const ThreadScope threads(visThreads(model, o, size, batch));
  torch::AutoGradMode enable(true);
  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::mt19937 rng(uint32_t(o.seed * 2654435761u + 1));
  const FourierParam fourier{size, o.greyscale};
  at::Tensor spectrum = featureVisStartSpectrum(o, batch, size, gen);
  FeatureVisAdam adam{at::zeros_like(spectrum), at::zeros_like(spectrum), at::empty_like(spectrum)};
  VisResult r;
  VisTimings& time = r.timings;
  r.initial = featureVisInitial(model, obj, fourier, spectrum);
  // Lucid's render_vis default: a ReLU silent on the start image still passes a gradient.
  std::optional<fs::model::RedirectedReluGradient> redirect;
  if (o.redirectRelu) redirect.emplace();
  for (int step = 1; step <= o.steps; ++step) {
    featureVisStep(model, obj, o, fourier, spectrum, adam, rng, step, time);
    if (progress && !progress(step, o.steps)) throw InputError("visualisation: cancelled");
  }
  at::NoGradGuard none;
  featureVisFinish(model, obj, fourier, spectrum, r);
  time.total = since(start);
  time.cpu = processCpuSeconds() - cpuStart;
  return r;
}

}  // namespace fs::analysis
