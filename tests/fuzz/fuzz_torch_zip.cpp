// libFuzzer target: torch.save zip checkpoints - LibTorch's zip reader, our restricted unpickler
// and the checkpoint entry point (readCheckpoint: unwrap, rename, convert).
// The first input byte picks the mode:
//   even: the rest is the whole file;
//   odd:  the rest is data.pkl, stored in a well-formed zip next to storage records data/0 ..
//         data/15 of 256 bytes each. Mutating a pickle inside a zip mostly breaks the record's
//         CRC, so this mode is what lets the fuzzer reach the unpickler in depth.
#include "fuzz_support.h"
#include "model/checkpoint.h"
#include "model/errors.h"
#include "model/torch_zip_reader.h"

#include <caffe2/serialize/inline_container.h>

namespace {

constexpr int kRecords = 16;
constexpr size_t kRecordBytes = 256;

void writeZipAroundPickle(const std::string& path, const uint8_t* pickle, size_t size) {
  static const std::string record = [] {
    std::string bytes(kRecordBytes, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 37 + 11) & 0xff);
    return bytes;
  }();
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle, size);
  for (int k = 0; k < kRecords; ++k) writer.writeRecord("data/" + std::to_string(k), record.data(), record.size());
  writer.writeRecord("version", "3\n", 2);
  writer.writeEndOfFile();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fs::model;
  if (size == 0) return 0;
  static const std::string path = fs::fuzz::scratchPath(".pth");
  if (data[0] % 2 == 0) {
    fs::fuzz::writeFile(path, data + 1, size - 1);
  } else {
    writeZipAroundPickle(path, data + 1, size - 1);
  }
  try {
    const TensorDict dict = readTorchZip(path);
    for (const auto& [name, tensor] : dict.tensors) fs::fuzz::touchEveryElement(tensor, name);
  } catch (const InputError&) {
    return 0;
  }
  try {
    const TensorDict dict = readCheckpoint(path);
    for (const auto& [name, tensor] : dict.tensors) {
      if (!tensor.is_contiguous()) fs::fuzz::invariantBroken(name + ": readCheckpoint returned a strided view");
      fs::fuzz::touchEveryElement(tensor, name);
    }
  } catch (const InputError&) {
  }
  return 0;
}
