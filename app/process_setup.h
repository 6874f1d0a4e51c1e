#pragma once
// Process-level set-up shared by both executables, run first thing in main().
namespace fs::app {

// LibTorch's OpenMP threads spin-wait between parallel regions (libgomp default: 300,000 spins);
// when the cores are shared with other processes that made forwards 5-8x slower or stall
// entirely, while passive waiting cost 25-35% on an idle machine (README "Threads"). A short
// spin (GOMP_SPINCOUNT=2000) measured as fast as the default when idle and degrades gracefully
// under load. libgomp reads its environment only when it loads, so if the user has set neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT this sets the spin count and re-executes the program once.
void ensureOpenMpWaitPolicy(char** argv);

// glibc serves blocks above its mmap threshold (128 KiB at first, at most 32 MiB) with a fresh
// mmap and returns them with munmap, so every such tensor's pages fault in again on first touch:
// in a batched backward on ResNet-50 a quarter of the time went to page faults (perf). This raises
// the threshold to its 32 MiB maximum (kLargestTensorBytes, which the batch sizes of
// analysis/batch_budget.h keep activations under) and keeps up to 512 MiB of freed heap for
// reuse. Integrated gradients on resnet50 (32 steps): 4.9 s -> 3.9 s (README "Kernels per ISA").
void keepFreedMemoryForReuse();

}  // namespace fs::app
