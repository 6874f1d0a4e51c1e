#include "analysis/features/image_source.h"

#include "analysis/batch_export.h"
#include "analysis/fashion_mnist.h"
#include "analysis/image_io.h"
#include "analysis/preprocess.h"
#include "analysis/sha256.h"
#include "model/errors.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <memory>

namespace fs::analysis {

ImageSource fashionMnistSource(const std::string& dir, int64_t limit) {
  auto images = std::make_shared<at::Tensor>(loadFashionMnist(dir, false).images);
  if (limit > 0 && limit < images->size(0)) *images = images->narrow(0, 0, limit).contiguous();
  ImageSource s;
  s.description = "fashion-mnist test set (" + dir + ")";
  s.count = images->size(0);
  Sha256 h;
  h.update("fashion-mnist-test\n");
  h.update(images->data_ptr<uint8_t>(), size_t(images->numel()));
  s.contentHash = h.hexDigest();
  for (int64_t i = 0; i < s.count; ++i) s.names.push_back("fashion-mnist-test-" + std::to_string(i));
  s.batch = [images](int64_t begin, int64_t end, const fs::model::InputSpec& spec) {
    return fashionMnistBatch(images->narrow(0, begin, end - begin), spec);
  };
  s.seen = [images](int64_t index, const fs::model::InputSpec& spec) {
    fs::model::InputSpec plain = spec;
    plain.mean = {0.f, 0.f, 0.f}, plain.std = {1.f, 1.f, 1.f};
    const at::Tensor x = fashionMnistBatch(images->narrow(0, index, 1), plain);  // [1,3,H,W] in [0,1]
    const at::Tensor hwc = x[0].permute({1, 2, 0}).mul(255.0).round().clamp(0, 255).to(at::kByte).contiguous();
    return cv::Mat(int(hwc.size(0)), int(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>()).clone();
  };
  return s;
}

ImageSource imageFolderSource(const std::string& dir, int64_t limit) {
  auto files = std::make_shared<std::vector<std::string>>(listImageFiles(dir));
  if (limit > 0 && int64_t(files->size()) > limit) files->resize(size_t(limit));
  if (files->empty()) throw fs::model::InputError(dir + ": no image files (png, jpg, jpeg, bmp, tif, tiff, webp)");
  ImageSource s;
  s.description = dir;
  s.count = int64_t(files->size());
  Sha256 h;
  h.update("image-folder\n");
  for (const auto& f : *files) {
    const std::string name = std::filesystem::path(f).filename().string();
    s.names.push_back(name);
    h.update(name + "\n" + sha256File(f) + "\n");
  }
  s.contentHash = h.hexDigest();
  s.batch = [files](int64_t begin, int64_t end, const fs::model::InputSpec& spec) {
    std::vector<at::Tensor> xs;
    for (int64_t i = begin; i < end; ++i) xs.push_back(preprocess(loadImageRgb((*files)[size_t(i)]), spec).input);
    return at::cat(xs, 0);
  };
  s.seen = [files](int64_t index, const fs::model::InputSpec& spec) {
    return preprocess(loadImageRgb((*files)[size_t(index)]), spec).resizedCrop.clone();
  };
  return s;
}

}  // namespace fs::analysis
