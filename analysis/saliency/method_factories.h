#pragma once
// One factory per saliency method; each class lives in its own .cpp (file name = class name).
// makeSaliencyMethod() in saliency_method.cpp maps the CLI names to these.
#include "analysis/saliency/saliency_method.h"

#include <memory>

namespace fs::analysis {

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

}  // namespace fs::analysis
