#pragma once
// Shared pieces of the libFuzzer targets (tests/fuzz/README.md). The readers take paths, so each
// input is written to a per-process scratch file first. Only fs::model::InputError is an
// accepted outcome for hostile bytes: any other exception escapes LLVMFuzzerTestOneInput and
// libFuzzer reports it (std::terminate -> abort) like a crash.
#include <ATen/ATen.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs::fuzz {

// A scratch path on tmpfs when there is one; the name ends in `suffix` (the checkpoint loader
// looks at the extension of .safetensors files).
inline std::string scratchPath(const std::string& suffix) {
  const char* dir = std::getenv("FS_FUZZ_SCRATCH");
  std::string base = dir && *dir ? dir : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  return base + "/fs_fuzz_" + std::to_string(getpid()) + suffix;
}

inline void writeFile(const std::string& path, const void* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::abort();
  }
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

[[noreturn]] inline void invariantBroken(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

// Checks that the tensor's view lies inside its storage, then reads every element through its
// sizes and strides here, in instrumented code: LibTorch itself is not built with ASan, so a view
// that reaches past its buffer would otherwise be read silently inside libtorch.
inline uint64_t touchEveryElement(const at::Tensor& t, const std::string& name) {
  if (!t.defined() || t.numel() == 0) return 0;
  const int64_t itemSize = static_cast<int64_t>(t.element_size());
  int64_t last = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0) invariantBroken(name + ": negative stride");
    last += (t.size(d) - 1) * t.stride(d);
  }
  if (static_cast<uint64_t>((last + 1) * itemSize) > t.storage().nbytes()) {
    invariantBroken(name + ": view reaches past its storage");
  }
  const auto* base = static_cast<const unsigned char*>(t.data_ptr());
  std::vector<int64_t> index(static_cast<size_t>(t.dim()), 0);
  uint64_t sum = 0;
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t offset = 0;
    for (int64_t d = 0; d < t.dim(); ++d) offset += index[static_cast<size_t>(d)] * t.stride(d);
    for (int64_t b = 0; b < itemSize; ++b) sum += base[offset * itemSize + b];
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      if (++index[static_cast<size_t>(d)] < t.size(d)) break;
      index[static_cast<size_t>(d)] = 0;
    }
  }
  return sum;
}

// Bitwise equality of two tensors' values (NaN payloads included).
inline bool sameBits(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const at::Tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.nbytes() == cb.nbytes() && (ca.nbytes() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0);
}

}  // namespace fs::fuzz
