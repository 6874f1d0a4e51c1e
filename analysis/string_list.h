#pragma once
// Comma-separated lists, as options and configs spell them ("gradcam,gradient").
#include <string>
#include <vector>

namespace fs::analysis {

// "a,b,,c" -> {"a", "b", "c"}: empty items are dropped.
std::vector<std::string> splitList(const std::string& s);
// {"a", "b"} -> "a, b": the "(valid: ...)" lists of error messages.
std::string joinList(const std::vector<std::string>& items);
// Whether `items` holds `item` (a chosen method, metric or option).
bool listHas(const std::vector<std::string>& items, const std::string& item);

}  // namespace fs::analysis
