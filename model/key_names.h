#pragma once
// Small helpers for the families' renaming of other libraries' checkpoint layouts
// (FamilyTraits::adoptForeignNames): prefix replacement and key tests on a TensorDict.
#include "model/tensor_dict.h"

#include <string>

namespace fs::model {

// name = to + the rest when name starts with from; returns whether it did.
inline bool renamePrefix(std::string& name, const std::string& from, const std::string& to) {
  if (name.rfind(from, 0) != 0) return false;
  name = to + name.substr(from.size());
  return true;
}

inline bool anyKeyStartsWith(const TensorDict& dict, const std::string& prefix) {
  for (const auto& entry : dict.tensors)
    if (entry.first.rfind(prefix, 0) == 0) return true;
  return false;
}

// "<number>.<rest>" at `pos` of name: the number (or -1) and the rest after the dot.
inline int leadingIndex(const std::string& name, size_t pos, std::string& rest) {
  size_t end = pos;
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == pos || end >= name.size() || name[end] != '.' || end - pos > 6) return -1;
  rest = name.substr(end + 1);
  return std::stoi(name.substr(pos, end - pos));
}

}  // namespace fs::model
