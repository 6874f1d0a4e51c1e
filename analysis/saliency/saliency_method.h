#pragma once
// Saliency methods, one small class each on a shared base (pytorch-grad-cam's BaseCAM shape).
// Raw maps are kept signed and unnormalised: CAM methods return [H,W] at the tap resolution,
// input attributions [1,3,H,W] or one value per pixel [H,W] (occlusion, RISE), the attention
// methods [h,w] at the patch grid.
// How a result is displayed is the method's MapConvention (below).
// Runs on the calling thread (the worker that owns the model); grad guards are created inside.
#include "analysis/colormap.h"
#include "analysis/model_loader.h"
#include "analysis/saliency/gradient_pass.h"
#include "analysis/saliency/method_parameters.h"

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fs::analysis {

// The method parameters (defaults and ranges: method_parameters.h) and what every method reads.
struct SaliencyOptions : MethodParameters {
  int target = -1;                 // class index; -1 = top-1 prediction
  std::string tap;                 // CAM methods; empty = the model's last block (camTap)
  int batchSize = 0;               // samples per internal batch; 0 = chosen from memory (batch_budget.h)
};

// How a method's result becomes the 2-D map that is displayed and ranked by the metrics: the
// literature's convention for that kind of attribution, decided once, here, for every front end.
//  - channel reduction of an input attribution [1,3,H,W]: the maximum over colour channels of |g|
//    for gradient and SmoothGrad (Simonyan et al. 2014, sec. 3.1; Smilkov et al. 2017), the signed
//    sum over channels for additive attributions (integrated gradients: completeness, Sundararajan
//    et al. 2017; gradient x input);
//  - sign: CAMs are shown after ReLU (Selvaraju et al. 2017, eq. 2), magnitudes as they are,
//    signed attributions (IG, gradient x input, occlusion's change in probability) signed;
//  - clip: the top 1% of an input attribution's values (Smilkov et al. 2017 cap outliers at the
//    99th percentile), none for CAMs;
//  - colormap: turbo for non-negative maps, the diverging map for signed ones.
enum class ChannelReduction { SignedSum, MaxAbs };
struct MapConvention {
  ChannelReduction reduction = ChannelReduction::SignedSum;
  SignMode sign = SignMode::Relu;
  double clipPercentile = 100.0;
  Colormap colormap = Colormap::Turbo;
};
const char* channelReductionName(ChannelReduction r);  // "signed-sum", "max-abs"
// The convention as display settings (sign, clip, colormap; alpha the overlay default 0.5).
DisplaySettings displaySettings(const MapConvention& c);

struct SaliencyResult {
  std::string method;
  std::string tap;                 // empty for input attributions
  int target = 0;
  bool inputAttribution = false;
  at::Tensor map;                  // float32, [H,W] (CAM, occlusion) or [1,3,H,W] (input attribution);
                                   // undefined when cancelled
  std::string caveat;              // non-empty: the method's assumptions do not hold here (shown
                                   // next to the map and printed by the CLI), e.g. negative activations
  at::Tensor map2d;                // float32 [H,W]: `map` reduced by the method's convention; what
                                   // every front end displays and the metrics rank (undefined when cancelled)
};

using ProgressFn = std::function<void(double fraction)>;

class SaliencyMethod {
 public:
  virtual ~SaliencyMethod() = default;
  virtual std::string name() const = 0;
  virtual std::string title() const = 0;  // for figures and the GUI, e.g. "Grad-CAM++"
  virtual bool usesTap() const = 0;       // CAM family: works on a tap
  virtual bool gradientFree() const = 0;
  // The MethodParameters the method reads, by name (parameterSpecs(): "samples", "sigma", "seed",
  // "steps", "baseline", "window", "stride"), for the CLI's help, the GUI's form and manifests.
  virtual std::vector<std::string> parameters() const { return {}; }
  // Parameters only this method reads (name, label, range, default), kept in
  // MethodParameters::own; the CLI takes them as --param NAME=VALUE, the GUI's form and
  // workspaces list them from parameterSpecs().
  virtual std::vector<ParameterSpec> ownParameters() const { return {}; }
  // The map convention (see MapConvention): CAMs ReLU / no clip / turbo; input attributions the
  // signed sum, signed, 99% clip, diverging, unless the method says otherwise.
  virtual MapConvention convention() const;
  // Methods whose map is a function of one forward and one backward of the target's logit (the
  // gradient-weighted CAMs, gradient, gradient x input) say what they read of that pass
  // (gradient_pass.h); the others need more than one pass, or none.
  virtual PassUse passUse() const { return PassUse::None; }
  // map2d of sample s of `pass` (holding what passUse() reads): compute()'s map2d for
  // pass.inputs[s] and pass.target, up to the rounding of a batched kernel. InputError for a method
  // whose passUse() is None or a pass without what it reads.
  virtual at::Tensor mapFromPass(const GradientPass& pass, int64_t sample) const;
  // Throws InputError for an unknown tap/class; returns early (empty map) if *cancel becomes true.
  virtual SaliencyResult compute(LoadedModel& model, const at::Tensor& input, const SaliencyOptions& options,
                                 const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr) = 0;
};

// The methods registered in saliency_method.cpp's list, by their names (each method's name());
// an unknown name -> InputError listing the valid ones.
std::unique_ptr<SaliencyMethod> makeSaliencyMethod(const std::string& name);
std::vector<std::string> saliencyMethodNames();

// The integrated-gradients baselines, named for what they are: zero (zeros of the normalised input,
// i.e. the dataset's mean colour), black (pixel value 0 through the model's normalisation), blur
// (Gaussian, sigma 10 px) or mean (x's own per-channel mean). The first is the default.
const std::vector<std::string>& integratedGradientsBaselines();
// The baseline x' of `kind` for a normalised input x [1,3,H,W] of a model with input `spec`;
// InputError for other kinds.
at::Tensor integratedGradientsBaseline(const at::Tensor& x, const std::string& kind, const fs::model::InputSpec& spec);

// An input attribution [1,3,H,W] reduced to one [H,W] map by `reduction`; an [H,W] map (CAM,
// occlusion) is returned as it is.
at::Tensor attributionToMap(const at::Tensor& attribution, ChannelReduction reduction = ChannelReduction::SignedSum);

// A [H,W] map (SaliencyResult::map2d) as a CV_32F image for the display steps; an input
// attribution is reduced by the signed sum first.
cv::Mat saliencyMapToMat(const at::Tensor& map);

}  // namespace fs::analysis
