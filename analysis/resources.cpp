#include "analysis/resources.h"

#include "model/errors.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs::analysis {
namespace {
namespace stdfs = std::filesystem;

stdfs::path executableDir() {
  std::error_code ec;
  const stdfs::path exe = stdfs::read_symlink("/proc/self/exe", ec);
  return ec ? stdfs::path() : exe.parent_path();
}

bool hasLabels(const stdfs::path& dir) {
  std::error_code ec;
  return !dir.empty() && stdfs::is_directory(dir / "labels", ec);
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw fs::model::InputError(path + ": cannot open label file");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}
}  // namespace

std::string resourceDir() {
  if (const char* env = std::getenv("FEATURESCOPE_RESOURCES"); env && *env) return env;
  // An installed binary always uses its own <prefix>/share/featurescope (packaging/Packaging.cmake),
  // even when the source tree it was built from still exists. /proc/self/exe is already resolved.
  const stdfs::path exeDir = executableDir();
  const stdfs::path installed = exeDir.empty() ? stdfs::path() : exeDir.parent_path() / "share" / "featurescope";
  if (hasLabels(installed)) return installed.string();
  // Build tree: the source tree's resources/. If neither exists (an incomplete installation),
  // name the installed location, so that errors point to where the files belong.
  if (installed.empty() || hasLabels(FS_RESOURCE_DIR)) return FS_RESOURCE_DIR;
  return installed.string();
}

const std::vector<std::string>& demoModelIds() {
  static const std::vector<std::string> ids{"convmlp_fmnist", "resnet_fmnist", "mixer_fmnist"};
  return ids;
}

std::string demoSampleImage() {
  std::vector<std::string> found;
  const stdfs::path dir = stdfs::path(resourceDir()) / "samples";
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename().string().rfind("fmnist_", 0) == 0 && e.path().extension() == ".png")
      found.push_back(e.path().string());
  if (found.empty())
    throw fs::model::InputError(dir.string() + ": no Fashion-MNIST sample (fmnist_*.png) for the demo");
  return *std::min_element(found.begin(), found.end());
}

const std::vector<std::string>& untrainedDemoModelIds() {
  static const std::vector<std::string> ids{"convmlp_s", "resnet50", "mixer_b16"};
  return ids;
}

std::string demoPhoto() { return resourceDir() + "/samples/chelsea.png"; }

std::vector<std::string> loadLabels(const fs::model::ModelConfig& config) {
  std::vector<std::string> labels;
  if (config.labels == "index") {
    for (int i = 0; i < config.numClasses; ++i) labels.push_back("class " + std::to_string(i));
    return labels;
  }
  std::string path = config.labels;
  if (config.labels == "imagenet") path = resourceDir() + "/labels/imagenet_classes.txt";
  else if (config.labels == "fashion-mnist") path = resourceDir() + "/labels/fashion_mnist_classes.txt";
  labels = readLines(path);
  if (static_cast<int>(labels.size()) != config.numClasses)
    throw fs::model::InputError(path + ": has " + std::to_string(labels.size()) + " labels, the model has " +
                                std::to_string(config.numClasses) + " classes");
  return labels;
}

}  // namespace fs::analysis
