#include "analysis/feature_tiles.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace fs::analysis {

cv::Mat tileChannels(const at::Tensor& map, int k, int cols, int scale) {
  const at::Tensor m = map.detach().to(at::kFloat).contiguous()[0];
  const int c = std::max<int>(1, std::min<int>(k, int(m.size(0))));
  const int h = int(m.size(1)), w = int(m.size(2));
  if (cols <= 0) cols = int(std::ceil(std::sqrt(double(c))));
  const int rows = (c + cols - 1) / cols;
  const int th = h * scale, tw = w * scale;
  cv::Mat out(rows * (th + 1) - 1, cols * (tw + 1) - 1, CV_8UC1, cv::Scalar(255));
  for (int i = 0; i < c; ++i) {
    cv::Mat ch(h, w, CV_32F, m[i].data_ptr<float>());
    double lo = 0, hi = 0;
    cv::minMaxLoc(ch, &lo, &hi);
    cv::Mat u8;
    ch.convertTo(u8, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0.0, hi > lo ? -lo * 255.0 / (hi - lo) : 0.0);
    cv::Mat big;
    cv::resize(u8, big, cv::Size(tw, th), 0, 0, cv::INTER_NEAREST);
    big.copyTo(out(cv::Rect((i % cols) * (tw + 1), (i / cols) * (th + 1), tw, th)));
  }
  return out;
}

}  // namespace fs::analysis
