#include "model/threads.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>

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

ThreadConfig configureThreads(int requested) {
  const int n = requested > 0 ? requested : defaultThreads();
  int blas = n;
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
  return c;
}

}  // namespace fs::model
