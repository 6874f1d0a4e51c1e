#pragma once
// Writes a whole file atomically: a temporary file in the same folder, then rename(2). An
// interrupted or failed write leaves no partial file at `path` (InputError on failure). And the
// folders an output goes into.
#include <string>
#include <string_view>

namespace fs::model {

void writeFileAtomically(const std::string& path, std::string_view bytes);

// Creates `folder` and its missing parents (nothing for ""); InputError "FOLDER: cannot create
// folder (REASON)" where that fails or a file stands in the way.
void createFolders(const std::string& folder);
// The same for the folder `file` goes into: a command calls it on its outputs before its work, so
// that a path that cannot be written fails at once rather than after a long run.
void createFoldersFor(const std::string& file);

}  // namespace fs::model
