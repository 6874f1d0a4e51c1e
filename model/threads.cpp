#include "model/threads.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <omp.h>

#include <cstdlib>
#include <thread>

namespace fs::model {
namespace {
using SetThreads = void (*)(int);
using GetThreads = int (*)();
using GetConfig = char* (*)();

template <typename Fn>
Fn blasSymbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

int defaultThreads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

// Measured on 2 cores (README "Threads"): with OpenBLAS's OpenMP build both libraries share one
// OpenMP pool, so N threads each is best. OpenBLAS's pthread build keeps its own spinning pool:
// giving it N threads as well made Mixer-B/16 2-3x slower, so it gets one thread there.
ThreadConfig configureThreads(int requested) {
  const int n = requested > 0 ? requested : defaultThreads();
  int blas = n;
  if (auto parallel = blasSymbol<GetThreads>("openblas_get_parallel"); parallel && parallel() == 1) blas = 1;
  if (const char* env = std::getenv("FEATURESCOPE_BLAS_THREADS"); env && std::atoi(env) > 0) blas = std::atoi(env);
  at::set_num_threads(n);
  if (auto set = blasSymbol<SetThreads>("openblas_set_num_threads")) set(blas);
  return currentThreads();
}

ThreadConfig currentThreads() {
  ThreadConfig c;
  c.intraOp = at::get_num_threads();
  if (auto get = blasSymbol<GetThreads>("openblas_get_num_threads")) c.blas = get();
  if (auto cfg = blasSymbol<GetConfig>("openblas_get_config")) c.blasName = cfg();
  if (auto parallel = blasSymbol<GetThreads>("openblas_get_parallel"))
    c.blasName += parallel() == 2 ? " (OpenMP)" : parallel() == 1 ? " (pthreads)" : " (sequential)";
  return c;
}

// at::get_num_threads() first: it gives a thread that has not run ATen yet the process's setting,
// which would otherwise overwrite ours on the thread's first parallel region.
CallingThreadThreads::CallingThreadThreads(int n) : previous_(at::get_num_threads()) {
  if (n > 0) omp_set_num_threads(n);
}

CallingThreadThreads::~CallingThreadThreads() { omp_set_num_threads(previous_); }

}  // namespace fs::model
