#pragma once
// Running the featurescope-cli binary from tests: exit code, stdout, stderr, and whether a signal
// killed it. Output files are unique per process and call (ctest runs tests in parallel).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// A scratch folder under the build tree, created on demand.
inline std::string cliTmpDir(const std::string& name) {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/" + name;
  std::filesystem::create_directories(d);
  return d;
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
