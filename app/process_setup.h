#pragma once
// Process-level set-up shared by both executables, run first thing in main().
namespace fs::app {

// LibTorch's OpenMP threads spin-wait between parallel regions by default; when the cores are
// shared with other processes that made forwards 5-8x slower here (README "Threads"). libgomp
// reads OMP_WAIT_POLICY only when it loads, so if the user has not chosen a policy this sets
// PASSIVE and re-executes the program once (same arguments). Returns normally otherwise.
void ensureOpenMpWaitPolicy(char** argv);

}  // namespace fs::app
