#pragma once
// Running the featurescope-cli binary from tests: exit code, stdout, stderr, and whether a signal
// killed it; small BMP images written by hand (cli_tests does not link OpenCV). Output files are
// unique per process and call (ctest runs tests in parallel).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs::test {

struct CliRun {
  int code = -1;
  bool signaled = false;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A record file (export manifest, evaluate scorecard) without its "updated" line, the only field
// that depends on when it was written.
inline std::string withoutTime(const std::string& path) {
  return std::regex_replace(slurp(path), std::regex("\n  \"updated\": \"[^\"]*\",?"), "");
}

// A scratch folder under the build tree, created on demand.
inline std::string cliTmpDir(const std::string& name) {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/" + name;
  std::filesystem::create_directories(d);
  return d;
}

// An uncompressed 24-bit BMP (bottom-up BGR rows padded to 4 bytes) with a pattern set by `seed`.
inline void writeBmp(const std::string& path, int w, int h, int seed) {
  const int stride = (3 * w + 3) / 4 * 4, size = 54 + stride * h;
  std::string b(size_t(size), '\0');
  auto put = [&](int at, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b[size_t(at + i)] = char((v >> (8 * i)) & 0xff);
  };
  b[0] = 'B', b[1] = 'M';
  put(2, uint32_t(size), 4), put(10, 54, 4), put(14, 40, 4), put(18, uint32_t(w), 4), put(22, uint32_t(h), 4);
  put(26, 1, 2), put(28, 24, 2), put(34, uint32_t(stride * h), 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int at = 54 + y * stride + 3 * x;
      b[size_t(at)] = char((x * 3 + seed * 40) & 0xff), b[size_t(at + 1)] = char((y * 5) & 0xff);
      b[size_t(at + 2)] = char(((x + y) * seed) & 0xff);
    }
  std::ofstream(path, std::ios::binary) << b;
}

inline CliRun runCli(const std::string& args) {
  static int calls = 0;
  const std::string dir = cliTmpDir("cli-output");
  const std::string tag = std::to_string(getpid()) + "_" + std::to_string(calls++);
  const std::string out = dir + "/stdout_" + tag + ".txt", err = dir + "/stderr_" + tag + ".txt";
  const int status = std::system((std::string(FS_CLI_PATH) + " " + args + " >" + out + " 2>" + err).c_str());
  CliRun r;
  r.signaled = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out), r.err = slurp(err);
  std::filesystem::remove(out), std::filesystem::remove(err);
  return r;
}

}  // namespace fs::test
