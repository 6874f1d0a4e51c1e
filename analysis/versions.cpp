#include "analysis/versions.h"

#include <opencv2/core/version.hpp>
#include <torch/version.h>

namespace fs::analysis {

std::string libraryVersions() { return std::string("LibTorch ") + TORCH_VERSION + ", OpenCV " + CV_VERSION; }

}  // namespace fs::analysis
