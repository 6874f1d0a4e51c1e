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

}  // namespace fs::app
