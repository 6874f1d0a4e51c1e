#include "model/safetensors.h"

#include "model/atomic_file.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <stdexcept>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace fs::model {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;  // the reference reader's limit
constexpr size_t kSafetensorsMaxRank = 8;
constexpr uint64_t kSafetensorsMaxDim = uint64_t{1} << 48;  // keeps every dim a valid int64 even when numel is 0
constexpr char kMetadataKey[] = "__metadata__";

struct Entry {
  std::string name;
  at::ScalarType type;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw InputError(path + ": not a valid safetensors file: " + reason);
}

// Maps a safetensors dtype to (torch type, element size); 0 size = unsupported.
std::pair<at::ScalarType, uint64_t> dtypeOf(const std::string& dtype) {
  if (dtype == "F32") return {at::kFloat, 4};
  if (dtype == "F16") return {at::kHalf, 2};
  if (dtype == "BF16") return {at::kBFloat16, 2};
  if (dtype == "F64") return {at::kDouble, 8};
  if (dtype == "I64") return {at::kLong, 8};
  return {at::kFloat, 0};
}

// Parses the header JSON, refusing duplicate keys at any level (nlohmann keeps the last one).
Json parseHeader(const std::string& text, const std::string& path) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == Json::parse_event_t::key && !keys.empty() && duplicate.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, callback);
  } catch (const std::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(path, "duplicate key '" + duplicate + "' in the header");
  if (!header.is_object()) fail(path, "header is not a JSON object");
  return header;
}

uint64_t checkedMul(uint64_t a, uint64_t b, const std::string& path, const std::string& name) {
  uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) fail(path, "tensor '" + name + "': size overflows");
  return out;
}

std::vector<int64_t> parseShape(const Json& shape, const std::string& path, const std::string& name) {
  if (!shape.is_array() || shape.size() > kSafetensorsMaxRank) {
    fail(path, "tensor '" + name + "': shape must be an array of at most 8 integers");
  }
  std::vector<int64_t> dims;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > kSafetensorsMaxDim) {
      fail(path, "tensor '" + name + "': shape entry " + dim.dump() + " is not a valid size");
    }
    dims.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  if (!contiguousStridesFit(dims)) {
    fail(path, "tensor '" + name + "': shape sizes multiply to 2^63 or more (zeros ignored)");
  }
  return dims;
}

Entry parseEntry(const std::string& name, const Json& value, const std::string& path) {
  if (!value.is_object() || value.size() != 3 || !value.contains("dtype") || !value.contains("shape") ||
      !value.contains("data_offsets")) {
    fail(path, "tensor '" + name + "' must have exactly dtype, shape and data_offsets");
  }
  const Json& dtype = value["dtype"];
  const std::string dtypeName = dtype.is_string() ? dtype.get<std::string>() : dtype.dump();
  const auto [type, elementSize] = dtypeOf(dtypeName);
  if (elementSize == 0) {
    fail(path, "tensor '" + name + "' has unsupported dtype " + dtypeName +
                   " (supported: F32, F16, BF16, F64, I64)");
  }
  const Json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned() || offsets[0].get<uint64_t>() > offsets[1].get<uint64_t>()) {
    fail(path, "tensor '" + name + "': data_offsets must be [begin, end] with begin <= end");
  }
  Entry entry{name, type, parseShape(value["shape"], path, name), offsets[0].get<uint64_t>(),
              offsets[1].get<uint64_t>()};
  uint64_t count = 1;
  for (int64_t dim : entry.shape) count = checkedMul(count, static_cast<uint64_t>(dim), path, name);
  if (checkedMul(count, elementSize, path, name) != entry.end - entry.begin) {
    fail(path, "tensor '" + name + "': shape and dtype need " + std::to_string(count * elementSize) +
                   " bytes but data_offsets span " + std::to_string(entry.end - entry.begin));
  }
  return entry;
}

std::map<std::string, std::string> parseMetadata(const Json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "__metadata__ must be an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) fail(path, "__metadata__ value for '" + key + "' is not a string");
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

// Sorted by offset, the buffers must tile [0, dataSize) exactly.
void checkLayout(std::vector<Entry>& entries, uint64_t dataSize, const std::string& path) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (const Entry& entry : entries) {
    if (entry.begin != expected) {
      fail(path, "tensor '" + entry.name + "' data_offsets " +
                     (entry.begin < expected ? "overlap the previous tensor" : "leave a gap"));
    }
    expected = entry.end;
  }
  if (expected != dataSize) {
    fail(path, "the tensors span " + std::to_string(expected) + " bytes but the data section has " +
                   std::to_string(dataSize));
  }
}

uint64_t readU64(std::istream& in) {
  unsigned char bytes[8] = {};
  in.read(reinterpret_cast<char*>(bytes), 8);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

at::Tensor readTensor(std::ifstream& in, const Entry& entry, uint64_t dataStart, const std::string& path) {
  at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(entry.type));
  const uint64_t bytes = entry.end - entry.begin;
  in.seekg(static_cast<std::streamoff>(dataStart + entry.begin));
  in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(bytes));
  if (!in || static_cast<uint64_t>(in.gcount()) != bytes) {
    fail(path, "cannot read the data of tensor '" + entry.name + "'");
  }
  return tensor.is_floating_point() && entry.type != at::kFloat ? tensor.to(at::kFloat) : tensor;
}

}  // namespace

TensorDict readSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file");
  in.seekg(0, std::ios::end);
  const uint64_t fileSize = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  if (fileSize < 8) fail(path, "file is shorter than 8 bytes");
  const uint64_t headerSize = readU64(in);
  if (headerSize > kSafetensorsMaxHeaderBytes) fail(path, "header length " + std::to_string(headerSize) + " exceeds 100 MB");
  if (8 + headerSize > fileSize) fail(path, "header length " + std::to_string(headerSize) + " exceeds the file size");
  std::string text(headerSize, '\0');
  in.read(text.data(), static_cast<std::streamsize>(headerSize));
  if (!in) fail(path, "cannot read the header");

  const Json header = parseHeader(text, path);
  TensorDict dict;
  dict.format = "safetensors";
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      dict.metadata = parseMetadata(value, path);
    } else {
      entries.push_back(parseEntry(name, value, path));
    }
  }
  checkLayout(entries, fileSize - 8 - headerSize, path);
  for (const Entry& entry : entries) {
    dict.tensors.emplace_back(entry.name, readTensor(in, entry, 8 + headerSize, path));
  }
  return dict;
}

namespace {

at::Tensor prepareForWrite(const std::string& name, const at::Tensor& tensor) {
  at::Tensor cpu = tensor.detach().to(at::kCPU);
  if (cpu.is_floating_point()) return cpu.to(at::kFloat).contiguous();
  if (cpu.scalar_type() == at::kLong) return cpu.contiguous();
  throw std::invalid_argument("writeSafetensors: tensor '" + name + "' is neither floating point nor int64");
}

void appendU64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

}  // namespace

void writeSafetensors(const std::string& path, const TensorDict& dict) {
  std::map<std::string, at::Tensor> sorted;
  for (const auto& [name, tensor] : dict.tensors) {
    if (name == kMetadataKey || !sorted.emplace(name, prepareForWrite(name, tensor)).second) {
      throw std::invalid_argument("writeSafetensors: duplicate or reserved tensor name '" + name + "'");
    }
  }
  Json header = Json::object();
  header[kMetadataKey] = Json(dict.metadata);
  uint64_t offset = 0;
  for (const auto& [name, tensor] : sorted) {
    const uint64_t bytes = tensor.nbytes();
    header[name] = {{"dtype", tensor.scalar_type() == at::kLong ? "I64" : "F32"},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string bytes;
  bytes.reserve(8 + text.size() + offset);
  appendU64(bytes, text.size());
  bytes += text;
  for (const auto& [name, tensor] : sorted) {
    if (tensor.nbytes() > 0) bytes.append(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
  }
  writeFileAtomically(path, bytes);
}

}  // namespace fs::model
