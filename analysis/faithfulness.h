#pragma once
// Faithfulness and sanity metrics for saliency maps: deletion / insertion curves (RISE), average
// drop / increase in confidence (Grad-CAM++), the model-parameter randomisation test (Adebayo et
// al.) and agreement between two maps. Metric functions take the map as a tensor, so they work
// with any method; they run on the calling thread (the one that owns the model).
#include "analysis/model_loader.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fs::analysis {

// What deleted pixels become and what insertion starts from (the "substrate"). Black = pixel value
// 0 in every channel, i.e. (0 - mean) / std of the model's normalisation (RISE's deletion
// substrate); Zero = zeros of the normalised input, i.e. the dataset's mean colour (named "zero"
// as the integrated-gradients baseline is; "mean" is accepted too); Blur = Gaussian blur of the
// input (RISE's insertion substrate: kernel 11, sigma 5).
enum class Baseline { Blur, Zero, Black };
Baseline parseBaseline(const std::string& name);  // black|zero|mean|blur; InputError otherwise
const char* baselineName(Baseline b);             // "blur", "zero", "black"
// input float32 [1,3,H,W]; Black needs the model's input spec (InputError without one).
at::Tensor makeBaseline(const at::Tensor& input, Baseline b, const fs::model::InputSpec* spec = nullptr);

// Any saliency map as float32 [height,width]: [h,w], [1,h,w] or [1,1,h,w] maps are resized
// bilinearly (align_corners=false); [1,3,h,w] input attributions are summed over channels first.
// height or width < 0 keeps the map's own size (only the reduction to 2-D).
at::Tensor mapToSize(const at::Tensor& saliency, int64_t height, int64_t width);

struct CurveOptions {
  int steps = 50;                     // equal chunks of H*W / steps pixels (last one may be short)
  // The substrate; unset (the default everywhere) = RISE's: deletion to black, insertion from the
  // blur (Petsiuk et al. 2018, sec. 4.1). Set, both curves use it.
  std::optional<Baseline> baseline;
  int batchSize = 0;                  // forward batch; 0 = chosen from memory (batch_budget.h)
};
// Samples per forward of a curve on an input of height x width: its steps + 1 points split into
// equal batches of at most options.batchSize, or of the memory-chosen inference batch when 0.
int64_t curveBatchSize(LoadedModel& model, const CurveOptions& options, int64_t height, int64_t width);
// The substrate a curve uses, and its name for manifests ("rise" when unset).
Baseline curveSubstrate(const CurveOptions& options, bool insertion);
std::string substrateName(const CurveOptions& options);

struct Curve {
  std::vector<double> fractions;  // i / steps, i = 0..steps
  std::vector<double> probs;      // softmax probability of the target after i chunks
  double auc = 0.0;               // trapezoid over [0,1]
};

// Petsiuk et al. 2018, "RISE", sec. 4.1: pixels ordered by the saliency map (upsampled to the
// input, most salient first, ties in raster order). Deletion replaces them by the substrate chunk
// by chunk (lower AUC = more faithful); insertion starts from the substrate and puts them back
// (higher AUC = more faithful). The substrate's black uses model.config.input's normalisation.
// InputError for a bad input shape or target.
Curve deletionCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency, int target,
                    const CurveOptions& options = {});
Curve insertionCurve(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency, int target,
                     const CurveOptions& options = {});
// Trapezoid rule for values sampled at equal spacing over [0,1] (a single value: that value).
double trapezoidAuc(const std::vector<double>& values);

// Chattopadhay et al. 2018, "Grad-CAM++", sec. 4.1: the map, ReLU'd and scaled to [0,1] by its
// maximum, masks the input (x' = b + E * (x - b), b = baseline, Zero: x' = E * x). With Y / O the
// target probabilities on x / x': drop = max(0, Y - O) / Y, increase = O > Y.
struct ConfidenceChange {
  double original = 0.0;  // Y
  double masked = 0.0;    // O
  double drop = 0.0;      // in [0,1]; the paper reports the mean over images in percent
  bool increase = false;
};
ConfidenceChange confidenceChange(LoadedModel& model, const at::Tensor& input, const at::Tensor& saliency,
                                  int target, Baseline baseline = Baseline::Zero);

// Agreement between two maps of any supported shape, resized to the larger height and width.
// Spearman rank correlation (average ranks for ties; 0 when a map is constant) and IoU of the
// top q fraction of pixels (at least one pixel each).
double spearman(const at::Tensor& a, const at::Tensor& b);
double topIou(const at::Tensor& a, const at::Tensor& b, double q);
struct MapAgreement {
  double spearman = 0.0;
  double topIou = 0.0;
};
MapAgreement compareMaps(const at::Tensor& a, const at::Tensor& b, double q = 0.1);

// Adebayo et al. 2018, "Sanity Checks for Saliency Maps", sec. 3 (cascading randomisation).
// Units, head first: the model's top-level modules in reverse registration order, a container of
// taps (ConvMLP `stages`, Mixer `blocks`) split into its tap children (`stages.2`, ...).
std::vector<std::string> randomisationOrder(const LoadedModel& model);

struct SanityStep {
  std::string layer;      // the unit randomised at this step (all earlier ones stay random)
  double spearman = 0.0;  // rank correlation of the map with the original one
};
struct SanityResult {
  std::vector<SanityStep> steps;
  bool cancelled = false;
};
using MapFunction = std::function<at::Tensor(LoadedModel&)>;

// The cascading randomisation of analysis/evaluation/sanity.h (each unit re-initialised with its
// family's own initialisation, from a fresh model built with a seed derived from `seed`), reduced
// to the Spearman correlation per step. The original weights and buffers are restored on return,
// also when computeMap throws or *cancel is set.
SanityResult parameterRandomisation(LoadedModel& model, const MapFunction& computeMap, uint64_t seed = 0,
                                    const std::function<void(double)>& progress = {},
                                    const std::atomic<bool>* cancel = nullptr);

}  // namespace fs::analysis
