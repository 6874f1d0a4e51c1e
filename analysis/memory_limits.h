#pragma once
// Memory limits shared by the analysis layer and both programs' process setup (torch-free).
#include <cstdint>

namespace fs::analysis {

// No activation of a batched pass exceeds this: glibc's largest mmap threshold, which both
// programs set (app/process_setup.h), so that every activation comes from reusable heap.
constexpr int64_t kLargestTensorBytes = 32 * 1024 * 1024;

}  // namespace fs::analysis
