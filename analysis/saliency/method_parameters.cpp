#include "analysis/saliency/method_parameters.h"

#include "analysis/saliency/saliency_method.h"
#include "analysis/string_list.h"
#include "model/errors.h"

namespace fs::analysis {

const std::vector<ParameterSpec>& parameterSpecs() {
  static const std::vector<ParameterSpec> specs = [] {
    std::vector<ParameterSpec> s;
    s.push_back({"samples", "SmoothGrad samples", "noisy copies averaged (SmoothGrad)", 1, 100000, true, {}});
    s.push_back({"sigma", "SmoothGrad noise", "noise std as a fraction of the input range (SmoothGrad)", 0, 100, false, {}});
    s.push_back({"seed", "Noise seed", "seed of the SmoothGrad noise", 0, 2147483647, true, {}});
    s.push_back({"steps", "IG steps", "Riemann steps from the baseline to the image (integrated gradients)", 1, 10000, true, {}});
    s.push_back({"baseline", "IG baseline", "integrated gradients: zero = the normalised input's zero, i.e. the dataset's mean colour; "
                 "black = pixel value 0; blur = a Gaussian blur of the image; mean = the image's own mean colour", 0, 0, false,
                 integratedGradientsBaselines()});
    s.push_back({"window", "Occlusion window", "occluded square, input pixels", 1, 4096, true, {}});
    s.push_back({"stride", "Occlusion stride", "step between windows, input pixels (at most the window)", 1, 4096, true, {}});
    return s;
  }();
  return specs;
}

const ParameterSpec& parameterSpec(const std::string& name) {
  for (const ParameterSpec& s : parameterSpecs())
    if (s.name == name) return s;
  std::vector<std::string> names;
  for (const ParameterSpec& s : parameterSpecs()) names.push_back(s.name);
  throw fs::model::InputError("unknown saliency parameter '" + name + "' (valid: " + joinList(names) + ")");
}

}  // namespace fs::analysis
