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
    s.push_back({"seed", "Noise seed", "seed of the random samples (SmoothGrad noise, random masks)", 0, 2147483647, true, {}});
    s.push_back({"steps", "IG steps", "Riemann steps from the baseline to the image (integrated gradients)", 1, 10000, true, {}});
    s.push_back({"baseline", "IG baseline",
                 "integrated gradients: zero = the normalised input's zero, i.e. the dataset's mean colour; "
                 "black = pixel value 0; blur = a Gaussian blur of the image; mean = the image's own mean colour",
                 0, 0, false, integratedGradientsBaselines()});
    s.push_back({"window", "Occlusion window", "occluded square, input pixels", 1, 4096, true, {}});
    s.push_back({"stride", "Occlusion stride", "step between windows, input pixels (at most the window)", 1, 4096, true, {}});
    for (const std::string& name : saliencyMethodNames())
      for (ParameterSpec spec : makeSaliencyMethod(name)->ownParameters()) {
        spec.own = true;
        s.push_back(std::move(spec));
      }
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

double parameterValue(const MethodParameters& p, const std::string& name) {
  const ParameterSpec& spec = parameterSpec(name);
  if (spec.own) {
    auto it = p.own.find(name);
    return it == p.own.end() ? spec.defaultValue : it->second;
  }
  if (name == "samples") return p.samples;
  if (name == "sigma") return p.sigma;
  if (name == "seed") return double(p.seed);
  if (name == "steps") return p.steps;
  if (name == "window") return p.window;
  if (name == "stride") return p.stride;
  throw fs::model::InputError("saliency parameter '" + name + "' is not a number");
}

void setParameterValue(MethodParameters& p, const std::string& name, double value) {
  const ParameterSpec& spec = parameterSpec(name);
  if (!spec.choices.empty()) throw fs::model::InputError("saliency parameter '" + name + "' is not a number");
  if (!(value >= spec.minimum && value <= spec.maximum) || (spec.integer && value != double(int64_t(value))))
    throw fs::model::InputError("saliency parameter '" + name + "' = " + std::to_string(value) + " is out of range (" +
                                (spec.integer ? "an integer " : "") + "from " + std::to_string(spec.minimum) + " to " +
                                std::to_string(spec.maximum) + ")");
  if (spec.own) p.own[name] = value;
  else if (name == "samples") p.samples = int(value);
  else if (name == "sigma") p.sigma = value;
  else if (name == "seed") p.seed = uint64_t(value);
  else if (name == "steps") p.steps = int(value);
  else if (name == "window") p.window = int(value);
  else if (name == "stride") p.stride = int(value);
}

}  // namespace fs::analysis
