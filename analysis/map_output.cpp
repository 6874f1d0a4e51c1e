#include "analysis/map_output.h"

#include "model/atomic_file.h"
#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string_view>
#include <vector>

namespace fs::analysis {

void writeMapNpy(const std::string& path, const cv::Mat& map) {
  if (map.empty() || map.type() != CV_32F || map.dims != 2)
    throw fs::model::InputError(path + ": nothing to write (not a single-channel float map)");
  const cv::Mat m = map.isContinuous() ? map : map.clone();
  const at::Tensor t = at::from_blob(const_cast<float*>(m.ptr<float>()), {m.rows, m.cols}, at::kFloat);
  fs::model::writeNpy(path, t);
}

void writePng(const std::string& path, const cv::Mat& image) {
  if (image.empty() || image.depth() != CV_8U || (image.channels() != 3 && image.channels() != 1))
    throw fs::model::InputError(path + ": not an 8-bit RGB or grey picture");
  cv::Mat bgr = image;
  if (image.channels() == 3) cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  if (!cv::imencode(".png", bgr, buf)) throw fs::model::InputError(path + ": PNG encoding failed");
  fs::model::writeFileAtomically(path, std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

}  // namespace fs::analysis
