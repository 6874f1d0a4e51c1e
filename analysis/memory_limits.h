#pragma once
// Memory limits shared by the analysis layer and both programs' process setup (torch-free).
#include <cstddef>
#include <cstdint>

namespace fs::analysis {

// No activation of a batched pass exceeds this: glibc's largest mmap threshold, which both
// programs set (app/process_setup.h), so that every activation comes from reusable heap.
constexpr int64_t kLargestTensorBytes = 32 * 1024 * 1024;

// Growth of the resident memory allowed between releases of freed heap in a long run. glibc gives
// freed memory back to the system only from the top of its heap, and both programs keep up to
// 512 MiB there (app/process_setup.h); a long run's freed blocks end up between live ones, so its
// resident memory grew with the images although what it used did not: evaluate on resnet_fmnist
// (five methods, fourteen metrics) held 64-93 MB live throughout and 500 MB free after 500
// images, 703 MB resident.
constexpr size_t kFreedHeapKeptBetweenImages = size_t(128) * 1024 * 1024;

// Between two images (evaluate, run, sanity): once the resident memory has grown by more than
// kFreedHeapKeptBetweenImages since the last release (or the first call), glibc's malloc_trim gives
// the pages of every free block back to the system; what stays resident is the next base. A run
// that only re-uses its freed heap reads /proc/self/statm per image and releases nothing.
void releaseFreedHeapBetweenImages();

// The process's resident memory in bytes (/proc/self/statm); -1 where it cannot be read.
int64_t residentMemoryBytes();

}  // namespace fs::analysis
