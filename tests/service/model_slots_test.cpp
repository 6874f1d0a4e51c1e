// ModelSlots: loading, failed loads that keep the previous model, clearing, the catalogue.
#include "service_test_support.h"

#include "model/errors.h"
#include "model/registry.h"

#include <gtest/gtest.h>

namespace {

using fs::model::InputError;
using fs::service::Session;

TEST(ModelSlots, LoadReportsTheModelItsTapsAndStages) {
  Session s;
  const fs::service::SlotInfo info = s.slots().load(1, "resnet_fmnist", "");
  EXPECT_EQ(info.slot, 1);
  EXPECT_EQ(info.modelId, "resnet_fmnist");
  EXPECT_EQ(info.family, "resnet");
  EXPECT_FALSE(info.randomInit);  // the bundled weights
  EXPECT_EQ(info.labels.size(), 10u);
  ASSERT_FALSE(info.taps.empty());
  ASSERT_FALSE(info.stages.empty());
  EXPECT_LE(info.stages.size(), 4u);
  for (const std::string& stage : info.stages) {
    bool found = false;
    for (const auto& t : info.taps) found |= t.name == stage;
    EXPECT_TRUE(found) << stage << " is not a tap";
  }
  EXPECT_GT(info.parameters, 0);
}

TEST(ModelSlots, AFailedLoadKeepsThePreviousModel) {
  Session s;
  fs::test::openDemo(s, "mixer_fmnist");
  const auto before = s.features().predict(0, 3);
  EXPECT_THROW(s.slots().load(0, "no_such_model", ""), InputError);
  EXPECT_THROW(s.slots().load(0, "resnet_fmnist", "/nonexistent/weights.safetensors"), InputError);
  const auto after = s.features().predict(0, 3);
  ASSERT_EQ(after.top.size(), before.top.size());
  for (size_t i = 0; i < before.top.size(); ++i) {
    EXPECT_EQ(after.top[i].index, before.top[i].index);
    EXPECT_FLOAT_EQ(after.top[i].prob, before.top[i].prob);
  }
}

TEST(ModelSlots, SlotsOutOfRangeAndClearedSlotsAreInputErrors) {
  Session s;
  EXPECT_THROW(s.slots().load(fs::service::kMaxSlots, "resnet_fmnist", ""), InputError);
  EXPECT_THROW(s.slots().load(-1, "resnet_fmnist", ""), InputError);
  fs::test::openDemo(s);
  s.slots().clear(0);
  try {
    s.features().predict(0, 5);
    FAIL() << "predict on a cleared slot";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("slot 1 is empty"), std::string::npos) << e.what();
  }
}

TEST(ModelSlots, CatalogueListsEveryRegisteredVariant) {
  const auto ids = fs::service::ModelSlots::registeredIds();
  EXPECT_EQ(ids.size(), fs::model::registeredVariants().size());
  for (const auto& v : fs::model::registeredVariants()) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), v.config.id), ids.end()) << v.config.id;
    EXPECT_EQ(fs::service::ModelSlots::describeVariant(v.config.id), v.description);
  }
  EXPECT_EQ(fs::service::ModelSlots::describeVariant("no_such_model"), "");
}

}  // namespace
