// Deliberate bugs, one per check, picked by argv[1]. The FS_SANITIZE build runs each as a test
// (cmake/Sanitizers.cmake) and expects the sanitizer report, and that the process stops there:
// proof that the instrumentation and the abort-on-report options are really in effect.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* what = argv[1];
  int result = 0;
  if (std::strcmp(what, "heap-overflow") == 0) {
    int* p = new int[8];
    std::memset(p, 0, 8 * sizeof(int));
    volatile size_t bytes = sizeof(int);  // a real memcpy call: ASan's report, not UBSan's object-size
    std::memcpy(&result, p + argc + 6, bytes);  // p[8], one past the end
    delete[] p;
  } else if (std::strcmp(what, "signed-overflow") == 0) {
    volatile int big = INT_MAX;
    result = big + argc;
  } else if (std::strcmp(what, "leak") == 0) {
    void* volatile lost = std::malloc(64);
    lost = nullptr;
    result = lost == nullptr;
  } else {
    return 2;
  }
  std::printf("survived (%d)\n", result);
  return 0;
}
