// libFuzzer target: the safetensors reader, directly and through readCheckpoint. A file that
// reads must survive a write/read round trip bit for bit.
#include "fuzz_support.h"
#include "model/checkpoint.h"
#include "model/errors.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fs::model;
  static const std::string path = fs::fuzz::scratchPath(".safetensors");
  static const std::string copy = fs::fuzz::scratchPath(".copy.safetensors");
  fs::fuzz::writeFile(path, data, size);
  TensorDict dict;
  try {
    dict = readSafetensors(path);
  } catch (const InputError&) {
    return 0;
  }
  for (const auto& [name, tensor] : dict.tensors) {
    fs::fuzz::touchEveryElement(tensor, name);
    if (tensor.scalar_type() != at::kFloat && tensor.scalar_type() != at::kLong) {
      fs::fuzz::invariantBroken(name + ": reader returned a type other than float32/int64");
    }
  }
  writeSafetensors(copy, dict);
  const TensorDict again = readSafetensors(copy);
  if (again.metadata != dict.metadata || again.tensors.size() != dict.tensors.size()) {
    fs::fuzz::invariantBroken("round trip changed the metadata or the tensor count");
  }
  for (const auto& [name, tensor] : dict.tensors) {
    const at::Tensor* other = again.find(name);
    if (!other || !fs::fuzz::sameBits(tensor, *other)) fs::fuzz::invariantBroken(name + ": round trip changed it");
  }
  try {
    readCheckpoint(path);  // unwrapping and renaming on top; an empty file is an InputError there
  } catch (const InputError&) {
  }
  return 0;
}
