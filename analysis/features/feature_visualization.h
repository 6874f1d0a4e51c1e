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
//   then a bilinear resize back to the model's input size (fixed-size models need it);
// - Adam (lr 0.05, betas 0.9 / 0.999, eps 1e-8) on the spectrum; seeded, so identical seeds give
//   identical images.
// Objectives: a channel (mean over positions of the tap's channel), a neuron (the channel at the
// centre position), a class logit; averaged over the batch of samples as in Lucid. With several
// samples, Lucid's diversity term is subtracted: weight * sum over pairs i != j of the cosine of
// the samples' Gram matrices at the tap (channels x channels), divided by the sample count.
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

enum class VisObjective { Channel, Neuron, Logit };
VisObjective parseVisObjective(const std::string& name);  // channel | neuron | logit (InputError)

struct VisOptions {
  VisObjective objective = VisObjective::Channel;
  std::string tap;        // channel / neuron objectives
  int channel = 0;        // or the class for the logit objective
  int steps = 256;
  int size = 0;           // 0: the model's input size
  int samples = 1;               // > 1: a batch optimised with the diversity term
  double diversityWeight = 1.0;   // Lucid's tutorial uses 100 on InceptionV1; on the demo models
                                  // 100 outweighs the objective (it falls below its start)
  bool greyscale = false;
  bool transforms = true;
  double learningRate = 0.05;
  uint64_t seed = 0;
};

struct VisResult {
  at::Tensor image;        // float32 [3, S, S] in [0, 1]: the first sample
  at::Tensor images;       // float32 [samples, 3, S, S]
  double activation = 0.0; // the objective on the first final image without transforms
  double initial = 0.0;    // the objective on the first initial image
  std::vector<double> activations;  // per sample
};

// Lucid's diversity: activations [B,C,h,w] -> sum_{i != j} <G_i, G_j> / B with G_b the Gram matrix
// of sample b (C x C) scaled to unit Frobenius norm. B - 1 for identical samples.
at::Tensor gramDiversity(const at::Tensor& activations);

// Lucid's parametrisation: the spectrum [C, S, S/2+1, 2] -> the image [3, S, S] in [0, 1].
at::Tensor fourierImage(const at::Tensor& spectrum, int size, bool greyscale);

// The objective's value for images [B,3,H,W] in [0,1] (normalised with the model's mean/std here).
at::Tensor visObjective(LoadedModel& model, const at::Tensor& images01, const VisOptions& options);

// `progress(step, steps)` after each step; false cancels (InputError "cancelled").
VisResult visualizeFeature(LoadedModel& model, const VisOptions& options,
                           const std::function<bool(int, int)>& progress = {});

}  // namespace fs::analysis
