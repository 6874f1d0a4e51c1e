#include "analysis/evaluation/masks.h"

#include "analysis/image_io.h"
#include "analysis/preprocess.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace fs::analysis {
using fs::model::InputError;

at::Tensor fashionMnistSilhouette(const at::Tensor& images, const fs::model::InputSpec& spec) {
  if (images.dim() != 2 && images.dim() != 3) throw InputError("silhouette: images must be [28,28] or [N,28,28]");
  const at::Tensor batch = images.dim() == 2 ? images.unsqueeze(0) : images;
  const at::Tensor object = (batch > 0).to(at::kFloat).unsqueeze(1);
  const std::vector<int64_t> size{spec.height, spec.width};
  const at::Tensor up = at::upsample_bilinear2d(object, at::IntArrayRef(size), false).squeeze(1) >= 0.5;
  return images.dim() == 2 ? up[0] : up;
}

std::string maskPathFor(const std::string& imagePath) {
  std::filesystem::path p(imagePath);
  return (p.parent_path() / (p.stem().string() + ".mask.png")).string();
}

at::Tensor loadMask(const std::string& maskPath, int imageWidth, int imageHeight, const fs::model::InputSpec& spec) {
  cv::Mat rgb;
  try {
    rgb = loadImageRgb(maskPath);
  } catch (const std::exception& e) {
    throw InputError("mask " + maskPath + ": unreadable (" + e.what() + ")");
  }
  if (rgb.cols != imageWidth || rgb.rows != imageHeight)
    throw InputError("mask " + maskPath + ": " + std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows) +
                     " pixels, but its image is " + std::to_string(imageWidth) + "x" + std::to_string(imageHeight));
  cv::Mat gray, binary;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  cv::threshold(gray, binary, 127, 255, cv::THRESH_BINARY);
  if (cv::countNonZero(binary) == 0) throw InputError("mask " + maskPath + ": empty (no pixel >= 128)");
  cv::Mat binaryRgb;
  cv::cvtColor(binary, binaryRgb, cv::COLOR_GRAY2RGB);
  const cv::Mat crop = preprocess(binaryRgb, spec).resizedCrop;
  cv::Mat channel;
  cv::extractChannel(crop, channel, 0);
  const at::Tensor view = at::from_blob(channel.data, {channel.rows, channel.cols}, at::kByte);
  const at::Tensor mask = (view >= 128).clone();
  if (!mask.any().item<bool>())
    throw InputError("mask " + maskPath + ": no object pixel inside the model's centre crop");
  return mask;
}

}  // namespace fs::analysis
