#pragma once
// Runs tests/python/evaluation_reference.py (scipy, skimage, numpy) on tensors written as .npy and
// returns the numbers it prints; a failure of the script fails the calling test with its command.
#include "model/npy.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs_test {

inline std::string evaluationScratch() {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/evaluation_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

// evaluation_reference.py CMD a.npy [b.npy] [extra...] -> the numbers printed on its first line.
inline std::vector<double> pythonReference(const std::string& cmd, const std::vector<at::Tensor>& arrays,
                                           const std::vector<std::string>& extra = {}) {
  const std::string dir = evaluationScratch();
  std::string line = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/python/evaluation_reference.py " + cmd;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const std::string path = dir + "/" + cmd + std::to_string(i) + ".npy";
    fs::model::writeNpy(path, arrays[i].to(at::kFloat).contiguous());
    line += " " + path;
  }
  for (const std::string& e : extra) line += " " + e;
  FILE* pipe = ::popen(line.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + line);
  char buf[1024] = {};
  const std::string out = std::fgets(buf, sizeof buf, pipe) ? buf : "";
  if (::pclose(pipe) != 0 || out.empty()) throw std::runtime_error("Python reference failed: " + line);
  std::istringstream in(out);
  std::vector<double> values;
  for (double v; in >> v;) values.push_back(v);
  return values;
}

}  // namespace fs_test
