// Compiled with fs_ui's usage requirements by the ctest ui_cannot_include_torch, which expects
// this file NOT to compile: LibTorch's include directories do not reach ui/ (fs_service and
// fs_render link fs_analysis PRIVATE). (Debian installs ATen's and c10's headers in /usr/include,
// where no include path can hide them; layering_includes refuses those in ui/.)
#include <torch/torch.h>

int uiTorchProbe() { return static_cast<int>(torch::Tensor().defined()); }
