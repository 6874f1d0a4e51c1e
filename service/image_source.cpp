#include "service/image_source.h"

#include "analysis/fashion_mnist.h"
#include "analysis/image_io.h"
#include "model/errors.h"
#include "service/slot_store.h"

#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace fs::service {

cv::Mat loadImageFile(const std::string& path) { return fs::analysis::loadImageRgb(path); }

cv::Mat testSetImage(int index, int* label) {
  const fs::analysis::ImageDataset& data = fashionMnistTestSet();
  if (index < 0 || index >= data.images.size(0))
    throw fs::model::InputError("Fashion-MNIST test index " + std::to_string(index) + " is out of range (0-" +
                                std::to_string(data.images.size(0) - 1) + ")");
  const at::Tensor img = data.images[index].contiguous();
  const cv::Mat gray(28, 28, CV_8U, const_cast<uint8_t*>(img.data_ptr<uint8_t>()));
  cv::Mat rgb;
  cv::cvtColor(gray, rgb, cv::COLOR_GRAY2RGB);
  if (label) *label = static_cast<int>(data.labels[index].item<int64_t>());
  return rgb;
}

OpenedImage ImageSource::open(const ImageRequest& r) {
  OpenedImage out;
  if (!r.path.empty()) {
    out.rgb = loadImageFile(r.path);
    const std::filesystem::path p = std::filesystem::absolute(r.path);
    out.name = p.filename().string();
    out.path = p.lexically_normal().string();
  } else if (!r.bytes.empty()) {
    out.rgb = fs::analysis::decodeImageBytes(r.bytes, r.name);
    out.name = r.name;
  } else if (!r.rgb.empty()) {
    if (r.rgb.type() != CV_8UC3) throw fs::model::InputError(r.name + ": not an 8-bit RGB image");
    out.rgb = r.rgb.clone();
    out.name = r.name;
  } else if (r.testIndex >= 0) {
    int label = -1;
    out.rgb = testSetImage(r.testIndex, &label);
    out.name = "fashion-mnist test #" + std::to_string(r.testIndex) + " (class " + std::to_string(label) + ")";
  } else {
    throw fs::model::InputError((r.name.empty() ? std::string("image") : r.name) + ": no image data");
  }
  store_.setImage(out.rgb, out.name);
  return out;
}

}  // namespace fs::service
