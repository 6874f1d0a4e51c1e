#pragma once
// Shared by the session-service tests: the bundled Fashion-MNIST demo models and samples.
#include "service/session.h"

#include <string>

namespace fs::test {

inline std::string samplePath(const std::string& name) { return std::string(FS_SOURCE_DIR) + "/resources/samples/" + name; }

// A session with `id` in slot 0 and a bundled sample as the current image.
inline void openDemo(fs::service::Session& s, const std::string& id = "resnet_fmnist",
                     const std::string& image = "fmnist_0000_ankle-boot.png") {
  s.slots().load(0, id, "");
  fs::service::ImageRequest r;
  r.path = samplePath(image);
  s.images().open(r);
}

}  // namespace fs::test
