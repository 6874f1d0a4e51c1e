#pragma once
// Activation maximisation (Olah, Mordvintsev & Schubert 2017, "Feature Visualization", Distill),
// following the authors' reference code (Lucid; its PyTorch port Lucent: optvis/param/spatial.py
// fft_image, param/color.py to_valid_rgb, transform.py standard_transforms, Adam at 0.05):
// - the image is parametrised in Fourier space: a spectrum of N(0, 0.01^2) values scaled by
//   1 / max(f, 1/max(h, w)) (1/f), inverse real FFT ("ortho"), divided by 4;
// - colour decorrelation: each pixel's 3 values times Lucid's colour-correlation square root
//   (normalised by its largest column norm), then a sigmoid into [0, 1]; the greyscale constraint
//   (for models trained on greyscale data) optimises one channel, passed through the sigmoid and
//   replicated to RGB;
// - transformation robustness every step: pad 12 (grey 0.5), jitter 8, a random scale from
//   1 + (i - 5) / 50, i = 0..10, a random rotation from -10..10 degrees (0 five extra times), jitter 4,
//   then a bilinear resize back to the model's input size (fixed-size models need it). Deviation:
//   Lucid's pixel amounts are for 224-pixel inputs; they scale with the image side S (pad, jitter
//   8 and 4 times S / 224, rounded: 6, 4 and 2 at the demo models' 112), so that a transform moves
//   the image by the same fraction (at Lucid's sizes the demo models' ViT and MLP-Mixer channels
//   reached their top exemplar in 78% and 81% of cases, scaled in 94% and 97%);
// - Lucid's redirected ReLU gradient while optimising (render_vis's relu_gradient_override, on by
//   default; model/redirected_relu.h): a channel silent on the near-grey start image would otherwise
//   have a zero gradient for ever;
// - Adam (lr 0.05, betas 0.9 / 0.999, eps 1e-8) on the spectrum; seeded, so identical seeds give
//   identical images.
// Objectives: a channel (mean over positions of the tap's channel), a neuron (the channel at the
// centre position), a class logit, and a weighted sum of such terms (the paper's "objectives can
// be combined"; Lucid's Objective supports + and scalar *: w1 * channel(...) + w2 * neuron(...)),
// each term read from one forward that collects every tap the terms need; averaged over the batch
// of samples as in Lucid. With several samples, Lucid's diversity term is subtracted: weight * sum
// over pairs i != j of the cosine of the samples' Gram matrices at the tap (channels x channels),
// divided by the sample count.
// Speed without changing the method: the samples' spectra go through one batched inverse FFT and
// colour matrix product; a greyscale image is transformed as one channel and replicated to RGB
// afterwards (every transform acts on each channel alike, so the values are the same); the 1/f
// scale, colour matrix and normalisation constants are built once; Adam updates in place.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

enum class VisObjective { Channel, Neuron, Logit, Sum };
VisObjective parseVisObjective(const std::string& name);  // channel | neuron | logit | sum (InputError)

// One term of a weighted sum: kind Channel, Neuron or Logit (channel = the class), times weight.
struct VisTerm {
  VisObjective kind = VisObjective::Channel;
  std::string tap;  // empty for a logit
  int channel = 0;
  double weight = 1.0;
};

// The --terms syntax, comma-separated terms:
//   TAP:C[*W]          the channel objective of channel C at TAP (weight W, default 1)
//   channel:TAP:C[*W]  the same, explicitly
//   neuron:TAP:C[*W]   the neuron objective (channel C at the centre position of TAP)
//   logit:C[*W]        the logit of class C
// e.g. "stages.2:12*1.0,neuron:stages.2:40*-0.5,logit:3*0.1". InputError naming the term and the
// reason (empty term, unknown kind, channel not a non-negative integer, weight not a finite number).
// Taps and channel ranges are checked against the model by visualizeFeature / visObjective.
std::vector<VisTerm> parseVisTerms(const std::string& text);

struct VisOptions {
  VisObjective objective = VisObjective::Channel;
  std::string tap;        // channel / neuron objectives; with Sum, the diversity term's tap (default:
                          // the first term's tap)
  int channel = 0;        // or the class for the logit objective
  std::vector<VisTerm> terms;  // the Sum objective's terms
  int steps = 256;
  int size = 0;           // 0: the model's input size
  int samples = 1;               // > 1: a batch optimised with the diversity term
  double diversityWeight = 1.0;   // Lucid's tutorial uses 100 on InceptionV1; on the demo models
                                  // 100 outweighs the objective (it falls below its start)
  bool greyscale = false;
  bool transforms = true;
  // Lucid's redirected ReLU gradient during the optimisation (model/redirected_relu.h; its
  // render_vis default): a channel silent on the start image can still be optimised.
  bool redirectRelu = true;
  double learningRate = 0.05;
  uint64_t seed = 0;
  // Intra-op threads during the optimisation (restored afterwards); 0: one thread when a step's
  // forward costs under kVisSingleThreadMacs, else the process's setting. A small model's
  // operators are too short to share: on the 2-core machine under load, 2 threads made the demo
  // models' 256 steps 2-5x slower than 1. The result depends on the thread count only through
  // float rounding; a fixed count gives identical images for identical seeds.
  int threads = 0;
  // One image per channel, optimised together (the channel or neuron objective at `tap`; not with
  // samples > 1): image b maximises channels[b]. The loss sums the images' objectives, so each
  // image's gradient is its own; all start from the seed's noise and share the per-step transforms
  // (drawn once per step for the batch, as in Lucid), so image b equals the single-channel run of
  // channels[b] with the same seed up to float rounding, at a fraction of the time per channel.
  std::vector<int> channels;
};

constexpr double kVisSingleThreadMacs = 0.5e9;  // the demo models: 0.02-0.034 GMACs at 112 px

// Wall time of the optimisation's sections, summed over the steps (seconds).
struct VisTimings {
  double image = 0.0;       // Fourier parametrisation to the [0, 1] image
  double transforms = 0.0;  // transformation robustness
  double forward = 0.0;     // normalisation, the model's forward and the objective
  double backward = 0.0;    // the gradient with respect to the spectrum
  double update = 0.0;      // Adam
  double total = 0.0;       // visualizeFeature, including the initial and final evaluations
  double cpu = 0.0;         // the process's CPU time during visualizeFeature (every thread)
};

struct VisResult {
  at::Tensor image;        // float32 [3, S, S] in [0, 1]: the first sample
  at::Tensor images;       // float32 [samples or channels, 3, S, S]
  double activation = 0.0; // the objective on the first final image without transforms
  double initial = 0.0;    // the objective on the first initial image
  std::vector<double> activations;  // per sample
  VisTimings timings;
};

// Lucid's diversity: activations [B,C,h,w] -> sum_{i != j} <G_i, G_j> / B with G_b the Gram matrix
// of sample b (C x C) scaled to unit Frobenius norm. B - 1 for identical samples.
at::Tensor gramDiversity(const at::Tensor& activations);

// Lucid's parametrisation: the spectrum [C, S, S/2+1, 2] -> the image [3, S, S] in [0, 1].
at::Tensor fourierImage(const at::Tensor& spectrum, int size, bool greyscale);

// The objective's value per image [B] for images [B,3,H,W] in [0,1] (normalised with the model's
// mean/std here); for Sum, sum_i weight_i * term_i.
at::Tensor visObjective(LoadedModel& model, const at::Tensor& images01, const VisOptions& options);

// `progress(step, steps)` after each step; false cancels (InputError "cancelled").
VisResult visualizeFeature(LoadedModel& model, const VisOptions& options,
                           const std::function<bool(int, int)>& progress = {});

}  // namespace fs::analysis
