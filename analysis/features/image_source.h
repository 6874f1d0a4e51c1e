#pragma once
// The images a feature-visualisation pass runs over: the Fashion-MNIST test set or a folder of
// image files, streamed in batches preprocessed for the model, with a content hash that keys
// reusable results (exemplar indexes) to exactly these images.
#include "model/input_spec.h"

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fs::analysis {

struct ImageSource {
  std::string description;  // "fashion-mnist test set" or the folder
  std::string contentHash;  // SHA-256 over the images used, in order
  int64_t count = 0;
  std::vector<std::string> names;  // one per image: "fashion-mnist-test-17" or the file name
  // float32 [end - begin, 3, H, W]: images [begin, end) through the model's eval transform.
  // InputError naming the file for a folder image that cannot be decoded.
  std::function<at::Tensor(int64_t begin, int64_t end, const fs::model::InputSpec& spec)> batch;
  // One image as CV_8UC3 RGB, as the model sees it before normalisation (for exemplar crops).
  std::function<cv::Mat(int64_t index, const fs::model::InputSpec& spec)> seen;
};

// The first `limit` test images (all 10,000 when limit <= 0); the hash covers their pixels.
ImageSource fashionMnistSource(const std::string& dir, int64_t limit);
// The image files of `dir` (listImageFiles order), the first `limit` when > 0; the hash covers
// each file's name and bytes. InputError for a missing or image-less folder.
ImageSource imageFolderSource(const std::string& dir, int64_t limit);

}  // namespace fs::analysis
