#include "model/kernel_policy.h"

#include "model/atomic_file.h"
#include "model/environment.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace fs::model {
namespace {
struct Registry {
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<std::int64_t>> counters;
};

Registry& registry() {
  static Registry r;
  return r;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown cpu";
}

nlohmann::json readCalibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();  // unreadable: calibrate again, rewrite
}

MatmulBackend chooseMatmulBackend() {
  const std::string forced = environmentChoice("FEATURESCOPE_MATMUL", {"onednn", "blas"});
  if (forced == "onednn") return MatmulBackend::OneDnn;
  if (forced == "blas") return MatmulBackend::Blas;
  const std::string path = calibrationFile(), key = calibrationKey();
  // One process calibrates at a time (ctest starts many at once): the others wait and read its
  // result, so that every process on a machine makes the same choice.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const int lock = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock >= 0) ::flock(lock, LOCK_EX);
  nlohmann::json all = readCalibration(path);
  const auto known = all.find(key);
  const std::string cached =
      known != all.end() && known->is_object() ? known->value("backend", std::string()) : std::string();
  MatmulBackend b = cached == "blas" ? MatmulBackend::Blas : MatmulBackend::OneDnn;
  if (cached != "blas" && cached != "onednn") {  // none for this machine yet, or unreadable
    const MatmulTiming t = timeMatmulBackends();
    b = t.blasMs < t.onednnMs ? MatmulBackend::Blas : MatmulBackend::OneDnn;
    all[key] = {{"backend", backendName(b)}, {"onednn_ms", t.onednnMs}, {"blas_ms", t.blasMs}};
    try {
      writeFileAtomically(path, all.dump(2) + "\n");
    } catch (const std::exception& e) {
      std::cerr << "featurescope: cannot cache the matmul calibration (" << e.what() << "); it will run again\n";
    }
  }
  if (lock >= 0) ::close(lock);  // releases the lock
  return b;
}
}  // namespace

std::string onednnIsa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::all: return "all";
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
  }
  return "unknown";
}

bool onednnHasAvx512() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & core) == core;
}

bool blockedMatmulWeights(std::int64_t values) {
  static const int forced = [] {
    const std::string v = environmentChoice("FEATURESCOPE_MATMUL_WEIGHTS", {"plain", "blocked"});
    if (v.empty()) return -1;
    return v == "blocked" ? 1 : 0;
  }();
  return forced >= 0 ? forced == 1 : values <= kBlockedWeightMaxValues;
}

MatmulBackend matmulBackend() {
  static const MatmulBackend b = chooseMatmulBackend();
  return b;
}

std::string calibrationFile() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string base = xdg && *xdg ? xdg : std::string(home && *home ? home : "/tmp") + "/.cache";
  return base + "/featurescope/matmul-calibration.json";
}

std::string calibrationKey() {
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  return cpuModel() + " | oneDNN " + onednnIsa() + " | OpenBLAS " + (core ? core : "auto") + " | " +
         std::to_string(at::get_num_threads()) + " threads";
}

const char* backendName(MatmulBackend b) { return b == MatmulBackend::OneDnn ? "onednn" : "blas"; }

bool isSlowImplementation(std::string_view impl) {
  return impl.substr(0, 3) == "ref" || impl.find(":ref") != std::string_view::npos;
}

std::int64_t* kernelCounter(const std::string& kind, const std::string& impl) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto& slot = r.counters[{kind, impl}];
  if (!slot) slot = std::make_unique<std::int64_t>(0);
  return slot.get();
}

std::vector<KernelUse> kernelUses() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<KernelUse> out;
  for (const auto& [key, count] : r.counters) {
    const std::int64_t n = __atomic_load_n(count.get(), __ATOMIC_RELAXED);
    if (n > 0) out.push_back({key.first, key.second, n});
  }
  return out;
}

void resetKernelUses() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto& item : r.counters) __atomic_store_n(item.second.get(), 0, __ATOMIC_RELAXED);
}

}  // namespace fs::model
