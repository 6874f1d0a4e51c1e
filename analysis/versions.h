#pragma once
// Versions of the libraries this build links, for --version and reports (torch-free header).
#include <string>

namespace fs::analysis {

// e.g. "LibTorch 1.13.1, OpenCV 4.6.0"
std::string libraryVersions();

}  // namespace fs::analysis
