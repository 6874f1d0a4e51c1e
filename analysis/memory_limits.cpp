#include "analysis/memory_limits.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace fs::analysis {

int64_t residentMemoryBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  const bool ok = std::fscanf(f, "%ld %ld", &pages, &resident) == 2;
  std::fclose(f);
  return ok ? int64_t(resident) * sysconf(_SC_PAGESIZE) : -1;
}

namespace {

std::atomic<int64_t> residentAfterRelease{-1};

}  // namespace

void releaseFreedHeapBetweenImages() {
  const int64_t now = residentMemoryBytes();
  if (now < 0) return;  // no /proc: glibc's own trimming only
  int64_t base = residentAfterRelease.load();
  if (base < 0 || now < base) {  // the first image, or memory went back since
    residentAfterRelease.compare_exchange_strong(base, now);
    return;
  }
  if (now - base <= int64_t(kFreedHeapKeptBetweenImages)) return;
  // malloc_trim(0) gives back the whole pages inside every free block of every arena (glibc >= 2.8),
  // not only the top of the main heap. What stays resident is live, and the new base.
  malloc_trim(0);
  residentAfterRelease.store(residentMemoryBytes());
}

}  // namespace fs::analysis
