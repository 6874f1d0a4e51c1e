#pragma once
// Thread configuration, done once at start-up before any model runs: LibTorch intra-op threads
// and OpenBLAS's own pool (found at run time, so any BLAS provider works).
#include <string>

namespace fs::model {

struct ThreadConfig {
  int intraOp = 0;   // LibTorch intra-op threads
  int blas = 0;      // OpenBLAS threads (0 = provider not OpenBLAS / unknown)
  std::string blasName;
};

// requested <= 0 selects the measured default (see README "Threads").
ThreadConfig configureThreads(int requested);
ThreadConfig currentThreads();

}  // namespace fs::model

namespace fs::model {

// The calling thread's intra-op threads set to `n` for this scope, and restored after it; other
// threads keep theirs. LibTorch's OpenMP backend and oneDNN read OpenMP's per-thread setting
// (omp_get_max_threads), so two threads that each run a model with one intra-op thread do not
// share a pool. `n` <= 0 leaves the setting as it is.
class CallingThreadThreads {
 public:
  explicit CallingThreadThreads(int n);
  ~CallingThreadThreads();
  CallingThreadThreads(const CallingThreadThreads&) = delete;
  CallingThreadThreads& operator=(const CallingThreadThreads&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace fs::model
