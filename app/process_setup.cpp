#include "app/process_setup.h"

#include "analysis/memory_limits.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

namespace fs::app {

void ensureOpenMpWaitPolicy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  setenv("GOMP_SPINCOUNT", "2000", 1);
  execv("/proc/self/exe", argv);
  // exec failed (no /proc): carry on with libgomp's default.
}

void keepFreedMemoryForReuse() {
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(fs::analysis::kLargestTensorBytes));
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

}  // namespace fs::app
