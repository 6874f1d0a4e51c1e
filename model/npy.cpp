#include "model/npy.h"

#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/tensor_dict.h"

#include <ATen/ATen.h>

#include <cctype>
#include <fstream>
#include <sstream>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "NPY I/O assumes a little-endian host");

namespace fs::model {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr uint32_t kNpyMaxHeaderBytes = 1 << 20;
constexpr size_t kNpyMaxRank = 32;
constexpr uint64_t kNpyMaxDim = uint64_t{1} << 48;

struct NpyHeader {
  at::ScalarType type = at::kFloat;
  std::vector<int64_t> shape;
  uint64_t dataStart = 0;
};

[[noreturn]] void failNpy(const std::string& path, const std::string& reason) {
  throw InputError(path + ": not a supported NPY file: " + reason);
}

// Returns the text right after "'key':" (spaces skipped) in the header dict.
std::string valueAfter(const std::string& header, const std::string& key, const std::string& path) {
  const size_t at = header.find("'" + key + "':");
  if (at == std::string::npos) failNpy(path, "header has no '" + key + "'");
  size_t start = at + key.size() + 3;
  while (start < header.size() && header[start] == ' ') ++start;
  return header.substr(start);
}

std::vector<int64_t> parseShape(const std::string& text, const std::string& path) {
  if (text.empty() || text[0] != '(') failNpy(path, "shape is not a tuple");
  std::vector<int64_t> shape;
  size_t pos = 1;
  while (true) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == ',')) ++pos;
    if (pos < text.size() && text[pos] == ')') return shape;
    if (pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[pos])) || shape.size() >= kNpyMaxRank) {
      failNpy(path, "shape is not a tuple of at most 32 non-negative integers");
    }
    uint64_t dim = 0;
    for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
      dim = dim * 10 + static_cast<uint64_t>(text[pos] - '0');
      if (dim > kNpyMaxDim) failNpy(path, "shape dimension too large");
    }
    shape.push_back(static_cast<int64_t>(dim));
    if (pos < text.size() && text[pos] == 'L') ++pos;
  }
}

at::ScalarType parseDescr(const std::string& text, const std::string& path) {
  if (text.rfind("'<f4'", 0) == 0) return at::kFloat;
  if (text.rfind("'<f8'", 0) == 0) return at::kDouble;
  if (text.rfind("'<i8'", 0) == 0) return at::kLong;
  failNpy(path, "dtype " + text.substr(0, text.find(',')) + " (supported: '<f4', '<f8', '<i8')");
}

NpyHeader readHeader(std::ifstream& in, const std::string& path) {
  char prefix[12] = {};
  in.read(prefix, 10);
  if (!in || std::string(prefix, kMagicSize) != std::string(kMagic, kMagicSize)) failNpy(path, "bad magic");
  const int major = static_cast<unsigned char>(prefix[6]);
  uint32_t length = static_cast<unsigned char>(prefix[8]) | static_cast<unsigned char>(prefix[9]) << 8;
  uint64_t start = 10;
  if (major == 2 || major == 3) {
    in.read(prefix + 10, 2);
    length |= uint32_t{static_cast<unsigned char>(prefix[10])} << 16 |
              uint32_t{static_cast<unsigned char>(prefix[11])} << 24;
    start = 12;
  } else if (major != 1) {
    failNpy(path, "unknown version " + std::to_string(major));
  }
  if (!in || length > kNpyMaxHeaderBytes) failNpy(path, "bad header length");
  std::string header(length, '\0');
  in.read(header.data(), length);
  if (!in) failNpy(path, "truncated header");
  NpyHeader out;
  out.type = parseDescr(valueAfter(header, "descr", path), path);
  if (valueAfter(header, "fortran_order", path).rfind("False", 0) != 0) failNpy(path, "Fortran order");
  out.shape = parseShape(valueAfter(header, "shape", path), path);
  if (!contiguousStridesFit(out.shape)) failNpy(path, "shape sizes multiply to 2^63 or more (zeros ignored)");
  out.dataStart = start + length;
  return out;
}

}  // namespace

at::Tensor readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file");
  in.seekg(0, std::ios::end);
  const uint64_t fileSize = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  const NpyHeader header = readHeader(in, path);
  uint64_t bytes = c10::elementSize(header.type);
  for (int64_t dim : header.shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes)) failNpy(path, "size overflows");
  }
  if (header.dataStart + bytes != fileSize) {
    failNpy(path, "shape needs " + std::to_string(bytes) + " data bytes but the file holds " +
                   std::to_string(fileSize - header.dataStart));
  }
  at::Tensor tensor = at::empty(header.shape, at::TensorOptions().dtype(header.type));
  in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(bytes));
  if (!in) failNpy(path, "truncated data");
  return header.type == at::kDouble ? tensor.to(at::kFloat) : tensor;
}

void writeNpy(const std::string& path, const at::Tensor& t) {
  const at::Tensor data = t.detach().to(at::kCPU).to(at::kFloat).contiguous();
  std::ostringstream dict;
  dict << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int64_t dim : data.sizes()) dict << dim << (data.dim() == 1 ? "," : ", ");
  std::string header = dict.str();
  if (data.dim() > 1) header.resize(header.size() - 2);
  header += "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::string bytes(kMagic, kMagicSize);
  bytes += {1, 0, static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  bytes += header;
  if (data.nbytes() > 0) bytes.append(static_cast<const char*>(data.data_ptr()), data.nbytes());
  writeFileAtomically(path, bytes);
}

}  // namespace fs::model
