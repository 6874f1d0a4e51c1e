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
