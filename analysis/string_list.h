#pragma once
// Comma-separated lists, as options and configs spell them ("gradcam,gradient").
#include <string>
#include <vector>

namespace fs::analysis {

// "a,b,,c" -> {"a", "b", "c"}: empty items are dropped.
std::vector<std::string> splitList(const std::string& s);

}  // namespace fs::analysis
