// libFuzzer target: the NPY reader. A file that reads must write back (as float32) and read
// again to the same values.
#include "fuzz_support.h"
#include "model/errors.h"
#include "model/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fs::model;
  static const std::string path = fs::fuzz::scratchPath(".npy");
  static const std::string copy = fs::fuzz::scratchPath(".copy.npy");
  fs::fuzz::writeFile(path, data, size);
  at::Tensor tensor;
  try {
    tensor = readNpy(path);
  } catch (const InputError&) {
    return 0;
  }
  fs::fuzz::touchEveryElement(tensor, "npy");
  if (tensor.scalar_type() != at::kFloat && tensor.scalar_type() != at::kLong) {
    fs::fuzz::invariantBroken("reader returned a type other than float32/int64");
  }
  writeNpy(copy, tensor);
  if (!fs::fuzz::sameBits(readNpy(copy), tensor.to(at::kFloat))) fs::fuzz::invariantBroken("round trip changed it");
  return 0;
}
