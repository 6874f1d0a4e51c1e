// CkaService: a model against itself is 1 on the diagonal (linear CKA of identical features);
// fewer than two readable images is an InputError.
#include "service_test_support.h"

#include "model/errors.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace {

TEST(CkaService, AModelAgainstItselfIsOneOnTheDiagonal) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  s.slots().load(1, "resnet_fmnist", "");
  std::vector<std::string> images;
  for (const auto& e : std::filesystem::directory_iterator(std::string(FS_SOURCE_DIR) + "/resources/samples"))
    if (e.path().filename().string().rfind("fmnist_", 0) == 0) images.push_back(e.path().string());
  ASSERT_GE(images.size(), 4u);
  const auto r = s.cka().compute(0, 1, images);
  ASSERT_EQ(r.tapsA.size(), r.tapsB.size());
  EXPECT_EQ(r.images, int(images.size()));
  for (size_t i = 0; i < r.tapsA.size(); ++i) EXPECT_NEAR(r.cka[i][i], 1.0, 1e-4) << r.tapsA[i];
  EXPECT_FALSE(r.estimator.empty());
  EXPECT_THROW(s.cka().compute(0, 1, {images[0], "/nonexistent.png"}), fs::model::InputError);
}

}  // namespace
