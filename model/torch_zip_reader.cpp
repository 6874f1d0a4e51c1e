#include "model/torch_zip_reader.h"

#include "model/errors.h"
#include "model/restricted_unpickler.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <set>

namespace fs::model {
namespace {

std::string readPrefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file");
  std::string prefix(n, '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(n));
  prefix.resize(static_cast<size_t>(in.gcount()));
  return prefix;
}

void checkMagic(const std::string& path) {
  const std::string prefix = readPrefix(path, 4);
  if (prefix == std::string("\x80\x02\x8a\x0a", 4)) {
    throw InputError(path + ": this checkpoint uses the legacy (pre-1.6) torch.save format, which is "
                            "not supported; re-save it with torch >= 1.6 (torch.save(obj, f)) or convert "
                            "it to safetensors");
  }
  if (prefix != std::string("PK\x03\x04", 4)) throw InputError(path + ": not a PyTorch zip checkpoint");
}

// Copies record "data/<key>" into a new flat tensor (records are little-endian, like the host).
at::Tensor loadStorage(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                       const std::string& key, at::ScalarType type, int64_t numel) {
  const std::string record = "data/" + key;
  if (!reader.hasRecord(record)) throw InputError(path + ": storage record '" + record + "' is missing");
  auto [data, size] = reader.getRecord(record);
  const size_t elementSize = c10::elementSize(type);
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), elementSize, &bytes) || size < bytes) {
    throw InputError(path + ": storage record '" + record + "' holds " + std::to_string(size) +
                     " bytes, fewer than its " + std::to_string(numel) + " elements need");
  }
  at::Tensor tensor = at::empty({numel}, at::TensorOptions().dtype(type == at::kBool ? at::kByte : type));
  if (bytes > 0) std::memcpy(tensor.data_ptr(), data.get(), bytes);
  return type == at::kBool ? tensor.ne(0) : tensor;
}

// Dicts with string keys become dotted prefixes; tensors become entries; anything else is skipped.
void flatten(const PickleValue& value, const std::string& prefix, TensorDict& out,
             std::set<std::string>& seen, const std::string& path) {
  if (value.kind == PickleValue::Kind::Tensor && !prefix.empty()) {
    if (!seen.insert(prefix).second) throw InputError(path + ": duplicate tensor name '" + prefix + "'");
    out.tensors.emplace_back(prefix, value.tensor);
  } else if (value.kind == PickleValue::Kind::Dict) {
    for (const auto& [key, item] : value.dict) {
      if (key->kind != PickleValue::Kind::String) continue;
      flatten(*item, prefix.empty() ? key->s : prefix + "." + key->s, out, seen, path);
    }
  }
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

TensorDict readZip(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  if (!reader.hasRecord("data.pkl")) {
    throw InputError(path + ": no data.pkl record: not a torch.save checkpoint");
  }
  auto [pickle, size] = reader.getRecord("data.pkl");
  const StorageLoader loader = [&](const std::string& key, at::ScalarType type, int64_t numel) {
    return loadStorage(reader, path, key, type, numel);
  };
  const PickleValuePtr root =
      unpickleRestricted(static_cast<const uint8_t*>(pickle.get()), size, loader, path);
  TensorDict dict;
  dict.format = "pytorch-zip";
  std::set<std::string> seen;
  flatten(*root, "", dict, seen, path);
  return dict;
}

}  // namespace

TensorDict readTorchZip(const std::string& path) {
  checkMagic(path);
  try {
    return readZip(path);
  } catch (const InputError&) {
    throw;
  } catch (const c10::Error& e) {
    throw InputError(path + ": corrupt PyTorch zip checkpoint: " + firstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw InputError(path + ": corrupt PyTorch zip checkpoint: " + firstLine(e.what()));
  }
}

}  // namespace fs::model
