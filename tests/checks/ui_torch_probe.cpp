// Compiled with fs_ui's usage requirements by the ctest ui_cannot_include_torch, which expects
// this file NOT to compile: LibTorch's headers are not on ui/'s include path (fs_service and
// fs_render link fs_analysis PRIVATE).
#include <ATen/core/Tensor.h>

int uiTorchProbe() { return static_cast<int>(at::Tensor().defined()); }
