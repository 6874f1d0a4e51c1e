// TestSetService: the shipped demo model's accuracy on the first 500 test images, the
// misclassified list consistent with it, and a model that is not a Fashion-MNIST model refused.
#include "service_test_support.h"

#include "model/errors.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

TEST(TestSetService, MisclassifiedImagesMatchTheAccuracy) {
  fs::service::Session s;
  s.slots().load(0, "resnet_fmnist", "");
  const auto r = s.testSet().evaluate(0, 500);
  EXPECT_EQ(r.images, 500);
  EXPECT_GT(r.accuracy, 0.85);  // the shipped model (README: about 91% on all 10,000)
  EXPECT_EQ(r.indices.size(), size_t(std::lround((1.0 - r.accuracy) * 500)));
  for (size_t i = 0; i < r.indices.size(); ++i) {
    EXPECT_NE(r.truth[i], r.predicted[i]);
    int label = -1;
    fs::service::testSetImage(r.indices[i], &label);
    EXPECT_EQ(label, r.truth[i]);
  }
  s.slots().load(1, "resnet18", "");
  EXPECT_THROW(s.testSet().evaluate(1, 10), fs::model::InputError);
}

}  // namespace
