#pragma once
// A count and its noun for messages and captions: "1 image", "2 images", "0 images".
#include <cstdint>
#include <string>

namespace fs::analysis {

inline std::string counted(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace fs::analysis
