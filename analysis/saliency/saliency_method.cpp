#include "analysis/saliency/saliency_method.h"

#include "analysis/string_list.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <utility>

namespace fs::analysis {

// Defined in each method's own .cpp.
std::unique_ptr<SaliencyMethod> makeGradCam();
std::unique_ptr<SaliencyMethod> makeGradCamPlusPlus();
std::unique_ptr<SaliencyMethod> makeXGradCam();
std::unique_ptr<SaliencyMethod> makeLayerCam();
std::unique_ptr<SaliencyMethod> makeHiResCam();
std::unique_ptr<SaliencyMethod> makeEigenCam();
std::unique_ptr<SaliencyMethod> makeScoreCam();
std::unique_ptr<SaliencyMethod> makeInputGradient();
std::unique_ptr<SaliencyMethod> makeGradientXInput();
std::unique_ptr<SaliencyMethod> makeSmoothGrad();
std::unique_ptr<SaliencyMethod> makeIntegratedGradients();
std::unique_ptr<SaliencyMethod> makeOcclusion();
std::unique_ptr<SaliencyMethod> makeRise();
std::unique_ptr<SaliencyMethod> makeAttentionRollout();
std::unique_ptr<SaliencyMethod> makeGradientAttentionRollout();

namespace {

using Factory = std::unique_ptr<SaliencyMethod> (*)();

// The registration list: one line per method, in menu order. Each factory is defined in the
// method's own .cpp (file name = class name), declared here; the name is the method's own.
const std::vector<Factory>& factories() {
  static const std::vector<Factory> kAll{
      makeGradCam,
      makeGradCamPlusPlus,
      makeXGradCam,
      makeLayerCam,
      makeHiResCam,
      makeEigenCam,
      makeScoreCam,
      makeInputGradient,
      makeGradientXInput,
      makeSmoothGrad,
      makeIntegratedGradients,
      makeOcclusion,
      makeRise,
      makeAttentionRollout,
      makeGradientAttentionRollout,
  };
  return kAll;
}

const std::vector<std::string>& names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (Factory make : factories()) out.push_back(make()->name());
    return out;
  }();
  return kNames;
}

}  // namespace

std::vector<std::string> saliencyMethodNames() { return names(); }

std::unique_ptr<SaliencyMethod> makeSaliencyMethod(const std::string& name) {
  const auto& known = names();
  for (size_t i = 0; i < known.size(); ++i)
    if (known[i] == name) return factories()[i]();
  throw fs::model::InputError("unknown saliency method '" + name + "' (valid: " + joinList(known) + ")");
}

const char* channelReductionName(ChannelReduction r) {
  return r == ChannelReduction::MaxAbs ? "max-abs" : "signed-sum";
}

DisplaySettings displaySettings(const MapConvention& c) {
  DisplaySettings d;
  d.sign = c.sign, d.clipPercentile = c.clipPercentile, d.colormap = c.colormap;
  return d;
}

MapConvention SaliencyMethod::convention() const {
  MapConvention c;  // signed channel sum for input attributions
  if (usesTap()) return c;  // ReLU, no clip, turbo
  c.sign = SignMode::Signed;
  c.clipPercentile = 99.0;
  c.colormap = Colormap::Diverging;
  return c;
}

at::Tensor SaliencyMethod::mapFromPass(const GradientPass&, int64_t) const {
  throw fs::model::InputError(name() + ": its map is not a function of one gradient pass");
}

at::Tensor attributionToMap(const at::Tensor& attribution, ChannelReduction reduction) {
  if (attribution.dim() == 2) return attribution;
  if (attribution.dim() == 4 && attribution.size(0) == 1)
    return reduction == ChannelReduction::MaxAbs ? std::get<0>(attribution[0].abs().max(0)) : attribution[0].sum(0);
  throw fs::model::InputError("saliency map must be [H,W] or [1,C,H,W], got " + c10::str(attribution.sizes()));
}

cv::Mat saliencyMapToMat(const at::Tensor& map) {
  const at::Tensor m = attributionToMap(map).detach().to(at::kFloat).contiguous();
  const cv::Mat view(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_32F, m.data_ptr<float>());
  return view.clone();
}

}  // namespace fs::analysis
