#include "analysis/saliency/saliency_method.h"

#include "analysis/saliency/method_factories.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <utility>

namespace fs::analysis {
namespace {

using Factory = std::unique_ptr<SaliencyMethod> (*)();

const std::vector<std::pair<std::string, Factory>>& factories() {
  static const std::vector<std::pair<std::string, Factory>> kAll{
      {"gradcam", makeGradCam},
      {"gradcampp", makeGradCamPlusPlus},
      {"xgradcam", makeXGradCam},
      {"layercam", makeLayerCam},
      {"hirescam", makeHiResCam},
      {"eigencam", makeEigenCam},
      {"scorecam", makeScoreCam},
      {"gradient", makeInputGradient},
      {"gradxinput", makeGradientXInput},
      {"smoothgrad", makeSmoothGrad},
      {"integrated_gradients", makeIntegratedGradients},
      {"occlusion", makeOcclusion},
  };
  return kAll;
}

}  // namespace

std::vector<std::string> saliencyMethodNames() {
  std::vector<std::string> names;
  for (const auto& [name, make] : factories()) names.push_back(name);
  return names;
}

std::unique_ptr<SaliencyMethod> makeSaliencyMethod(const std::string& name) {
  for (const auto& [known, make] : factories())
    if (known == name) return make();
  std::string list;
  for (const auto& n : saliencyMethodNames()) list += (list.empty() ? "" : ", ") + n;
  throw fs::model::InputError("unknown saliency method '" + name + "' (valid: " + list + ")");
}

const char* channelReductionName(ChannelReduction r) {
  return r == ChannelReduction::MaxAbs ? "max-abs" : "signed-sum";
}

MapConvention SaliencyMethod::convention() const {
  MapConvention c;
  if (usesTap()) return c;  // ReLU, no clip, turbo
  c.reduction = ChannelReduction::SignedSum;
  c.sign = SignMode::Signed;
  c.clipPercentile = 99.0;
  c.colormap = Colormap::Diverging;
  return c;
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
