#pragma once
// The saliency methods' parameters, their defaults and their valid ranges, decided once here for
// every front end: the CLI's options (app/cli_input.cpp), the GUI's form (ui/saliency_view.cpp),
// the session services and the manifests. Torch-free, so the GUI can include it.
// Defaults follow the papers: SmoothGrad 50 samples at noise 0.15 of the input range (Smilkov et
// al. 2017, sec. 3: "sigma 10-20%", n = 50); integrated gradients 50 steps (Sundararajan et al.
// 2017 report 20-300; 50 keeps the completeness gap small on our models, tests/analysis); the
// zero baseline; occlusion 16-px windows at stride 8 (Zeiler & Fergus 2014 slide a grey square).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fs::analysis {

struct MethodParameters {
  int samples = 50;               // smoothgrad
  double sigma = 0.15;            // smoothgrad noise, as a fraction of the input range
  uint64_t seed = 0;              // smoothgrad noise generator
  int steps = 50;                 // integrated_gradients
  std::string baseline = "zero";  // integrated_gradients (integratedGradientsBaselines())
  int window = 16;                // occlusion window (input pixels)
  int stride = 8;                 // occlusion stride (at most the window)
  // A method's own parameters (SaliencyMethod::ownParameters, e.g. RISE's masks) by name; one
  // that is absent has its declared default (parameterValue).
  std::map<std::string, double> own;
};

// One parameter: its name (the manifest key; the CLI option --NAME for the shared ones, --param
// NAME=VALUE for a method's own), a label, its range and default; `choices` for the baseline.
struct ParameterSpec {
  std::string name, label, help;
  double minimum = 0, maximum = 0;
  bool integer = true;
  std::vector<std::string> choices;
  double defaultValue = 0;  // a method's own parameters (the shared ones: MethodParameters{})
  bool own = false;         // declared by one method (SaliencyMethod::ownParameters)
};

// Every parameter some method reads: the shared ones in a fixed order (samples, sigma, seed,
// steps, baseline, window, stride), then each registered method's own, in registration order.
const std::vector<ParameterSpec>& parameterSpecs();
const ParameterSpec& parameterSpec(const std::string& name);  // InputError for an unknown name

// A numeric parameter of p by name (a method's own: its value or its default); InputError for
// an unknown name or the baseline. setParameterValue checks the range (InputError naming it).
double parameterValue(const MethodParameters& p, const std::string& name);
void setParameterValue(MethodParameters& p, const std::string& name, double value);

}  // namespace fs::analysis
