#pragma once
// The "ID[:WEIGHTS]" model argument shared by featurescope-cli (figure, export) and the desktop
// app's --model: a registered id or JSON config path, optionally a checkpoint after the first ':'.
// Plain C++, no LibTorch, so the GUI layer can parse it too.
#include <string>

namespace fs::analysis {

struct ModelSpec {
  std::string idOrConfig;
  std::string weights;
};
// fs::model::UsageError when empty or when the id before ':' is empty.
ModelSpec parseModelSpec(const std::string& spec);

}  // namespace fs::analysis
