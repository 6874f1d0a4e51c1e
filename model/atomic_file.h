#pragma once
// Writes a whole file atomically: a temporary file in the same folder, then rename(2). An
// interrupted or failed write leaves no partial file at `path` (InputError on failure).
#include <string>
#include <string_view>

namespace fs::model {

void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace fs::model
