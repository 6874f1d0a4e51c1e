#include "analysis/fashion_mnist.h"

#include "model/errors.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include <array>
#include <memory>
#include <vector>

namespace fs::analysis {
namespace {
using fs::model::InputError;

struct GzFile {
  explicit GzFile(const std::string& path) : path(path), f(gzopen(path.c_str(), "rb")) {
    if (!f) throw InputError(path + ": cannot open (is dataset-fashion-mnist installed?)");
  }
  ~GzFile() { gzclose(f); }
  void read(void* dst, size_t n) {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      const int got = gzread(f, p, chunk);
      if (got <= 0) throw InputError(path + ": truncated or corrupt gzip/IDX data");
      p += got, n -= static_cast<size_t>(got);
    }
  }
  uint32_t u32() {
    std::array<unsigned char, 4> b{};
    read(b.data(), 4);
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
  }
  std::string path;
  gzFile f;
};

// IDX: big-endian magic (0x0000 type ndims), then ndims u32 sizes, then the data.
at::Tensor readIdx(const std::string& path, uint32_t expectedMagic, int64_t maxItems) {
  GzFile gz(path);
  const uint32_t magic = gz.u32();
  if (magic != expectedMagic) throw InputError(path + ": not an IDX file of the expected type");
  const int ndims = static_cast<int>(magic & 0xff);
  std::vector<int64_t> shape;
  for (int i = 0; i < ndims; ++i) shape.push_back(gz.u32());
  if (shape[0] > maxItems || (ndims == 3 && (shape[1] != 28 || shape[2] != 28)))
    throw InputError(path + ": unexpected IDX dimensions");
  at::Tensor t = at::empty(shape, at::kByte);
  gz.read(t.data_ptr<uint8_t>(), static_cast<size_t>(t.numel()));
  return t;
}
}  // namespace

std::string defaultFashionMnistDir() { return "/usr/share/datasets/fashion-mnist"; }

ImageDataset loadFashionMnist(const std::string& dir, bool train) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  ImageDataset d;
  d.images = readIdx(prefix + "-images-idx3-ubyte.gz", 0x00000803, 100000);
  d.labels = readIdx(prefix + "-labels-idx1-ubyte.gz", 0x00000801, 100000).to(at::kLong);
  if (d.images.size(0) != d.labels.size(0)) throw InputError(prefix + ": image and label counts differ");
  if (d.labels.numel() && (d.labels.min().item<int64_t>() < 0 || d.labels.max().item<int64_t>() > 9))
    throw InputError(prefix + ": labels outside 0..9");
  return d;
}

at::Tensor fashionMnistBatch(const at::Tensor& images, const fs::model::InputSpec& spec) {
  at::Tensor x = images.to(at::kFloat).div_(255.0).unsqueeze(1);
  x = at::upsample_bilinear2d(x, {spec.height, spec.width}, false);
  // The image path resizes 8-bit pixels to 8-bit pixels: quantise the same way.
  x = x.mul_(255.0).round_().clamp_(0.0, 255.0).div_(255.0).expand({-1, 3, -1, -1});
  const at::Tensor mean = at::tensor({spec.mean[0], spec.mean[1], spec.mean[2]}).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({spec.std[0], spec.std[1], spec.std[2]}).view({1, 3, 1, 1});
  return ((x - mean) / std).contiguous();
}

}  // namespace fs::analysis
