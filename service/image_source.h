#pragma once
// The session's current image: decoded from a file, from bytes (paste, drop) or taken from the
// Fashion-MNIST test set, on the worker thread, then handed to every slot. Decoding failures are
// InputErrors naming the file; the previous image stays.
#include "service/types.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fs::service {

class SlotStore;

// Where an image comes from: exactly one of path, bytes (with a name), rgb, or testIndex >= 0.
struct ImageRequest {
  std::string path;
  std::vector<uint8_t> bytes;
  cv::Mat rgb;            // CV_8UC3 RGB, already decoded (e.g. a pasted QImage)
  int testIndex = -1;     // Fashion-MNIST test image
  std::string name;       // display name for bytes/rgb; derived for path and testIndex
};

struct OpenedImage {
  cv::Mat rgb;            // CV_8UC3 RGB
  std::string name;       // file name or description
  std::string path;       // absolute path for files; empty otherwise
};

class ImageSource {
 public:
  explicit ImageSource(SlotStore& store) : store_(store) {}
  // Decodes the request and makes it the current image of every slot (per-image caches dropped).
  OpenedImage open(const ImageRequest& request);

 private:
  SlotStore& store_;
};

// Pure helpers (any thread).
cv::Mat loadImageFile(const std::string& path);  // CV_8UC3 RGB; InputError naming the file
// Fashion-MNIST test image `index` as CV_8UC3 RGB (28x28) and its label (cached after first use).
cv::Mat testSetImage(int index, int* label = nullptr);

}  // namespace fs::service
