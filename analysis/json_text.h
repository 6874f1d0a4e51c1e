#pragma once
// One-line JSON text, as the record files of long runs (export manifests, scorecards) store each
// image's entry. For analysis/ .cpp files only: nlohmann_json is private to fs_analysis.
#include <nlohmann/json.hpp>

#include <string>

namespace fs::analysis {

// Bytes that are not UTF-8 (file names, error messages) become U+FFFD.
inline std::string compactJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace fs::analysis
