#pragma once
// SHA-256 (FIPS 180-4) for checkpoint fingerprints in export manifests. Incremental: update() any
// number of times, then hexDigest(). Plain C++, no dependencies; one object per thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fs::analysis {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::array<uint8_t, 32> digest();  // finishes the hash; the object must be reset before reuse
  std::string hexDigest();           // lowercase, 64 characters
  void reset();

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_{};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t totalBytes_ = 0;
};

std::string sha256Hex(std::string_view bytes);
// Streams the file; fs::model::InputError naming the file if it cannot be read.
std::string sha256File(const std::string& path);

}  // namespace fs::analysis
