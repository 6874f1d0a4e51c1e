// The scorecard's speed figures (analysis/evaluation/evaluation_cost.h): the model evaluations
// counted per image, written out by hand here from the methods' and metrics' definitions, the
// arithmetic of forward-equivalents and overhead, and a measured throughput that is positive and
// faster per image in a batch than one image at a time for the forward pass.
#include "analysis/batch_budget.h"
#include "analysis/evaluation/evaluation_cost.h"
#include "analysis/faithfulness.h"
#include "analysis/model_loader.h"
#include "model/errors.h"

#include <gtest/gtest.h>

namespace {
namespace fa = fs::analysis;

TEST(EvaluationCost, CountsPerImageAsTheMethodsAndMetricsDefineThem) {
  const fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);  // 112 x 112 input, 7 units
  fa::SaliencyOptions o;
  o.steps = 32, o.window = 16, o.stride = 8;
  // gradcam: 1 forward+backward; deletion and insertion 51 each; drop 2; the top-1 prediction 1.
  fa::EvaluationCount c = fa::evaluationsPerImage(m, {"gradcam"}, {"deletion", "insertion", "drop", "gini"}, o, 50);
  EXPECT_EQ(c.singleForward, 1);
  EXPECT_EQ(c.singleBackward, 1);
  EXPECT_EQ(c.batchedForward, 51 + 51 + 2);
  EXPECT_EQ(c.batchedBackward, 0);
  // integrated_gradients 32 steps, with sanity (7 units + the original: 8 more maps) and random_logit
  // (1 more) and max_sensitivity (10 more): 20 maps; ROAD 9 and infidelity 1 + 32.
  c = fa::evaluationsPerImage(m, {"integrated_gradients"},
                              {"sanity", "random_logit", "max_sensitivity", "road_morf", "infidelity"}, o, 50);
  EXPECT_EQ(c.batchedBackward, 20 * 32);
  EXPECT_EQ(c.singleForward, 1 + 1);
  EXPECT_EQ(c.batchedForward, 9 + 32);
  // occlusion: windows at 0, 8, ..., 96 along each side of 112 px = 13 x 13, plus the reference.
  // They are occluded forwards (incremental where the model allows), counted apart.
  c = fa::evaluationsPerImage(m, {"occlusion"}, {"pointing_game"}, o, 50);
  EXPECT_EQ(c.occludedForward, 169);
  EXPECT_EQ(c.batchedForward, 0);
  EXPECT_EQ(c.singleForward, 1 + 1);
  o.window = 20, o.stride = 20;  // 0, 20, ..., 80 and one aligned to the edge at 92: 6 per side
  EXPECT_EQ(fa::evaluationsPerImage(m, {"occlusion"}, {}, o, 50).occludedForward, 36);
  // Infidelity's model differences are the image's, shared by its methods (MetricMemo): once.
  c = fa::evaluationsPerImage(m, {"gradcam", "gradient"}, {"infidelity"}, o, 50);
  EXPECT_EQ(c.singleBackward, 2);
  EXPECT_EQ(c.singleForward, 1 + 1);
  EXPECT_EQ(c.batchedForward, 32);
  // Max-sensitivity's 10 re-explanations of the methods that read one gradient pass come from one
  // batched pass over the image's perturbed inputs (gradient_pass.h), shared by them; integrated
  // gradients re-explains each (10 x 32).
  c = fa::evaluationsPerImage(m, {"gradcam", "layercam", "gradient", "integrated_gradients"}, {"max_sensitivity"}, o, 50);
  EXPECT_EQ(c.singleBackward, 3);
  EXPECT_EQ(c.batchedBackward, 10 + 11 * 32);
  c = fa::evaluationsPerImage(m, {"gradcam"}, {"deletion"}, o, 50);
  EXPECT_EQ(c.batchedBackward, 0);
  // A method whose evaluations are not modelled is named, not guessed.
  c = fa::evaluationsPerImage(m, {"gradient", "rise"}, {"deletion"}, o, 10);
  ASSERT_EQ(c.uncounted.size(), 1u);
  EXPECT_EQ(c.uncounted[0], "rise");
}

TEST(EvaluationCost, ForwardEquivalentsAndOverhead) {
  fa::EvaluationCount c;
  c.singleForward = 2, c.batchedForward = 100, c.singleBackward = 1, c.batchedBackward = 10;
  c.occludedForward = 40;
  fa::ModelThroughput t;
  t.forwardSingle = 20, t.forwardBatched = 200, t.backwardSingle = 5, t.backwardBatched = 50;
  t.occludedForward = 400;
  // per image: 2/20 + 100/200 + 1/5 + 10/50 + 40/400 = 1.1 s; 4 images: 4.4 s = 880 forward-equivalents.
  fa::ScorecardSpeed s = fa::scorecardSpeed(c, 4, t, 5.5);
  EXPECT_DOUBLE_EQ(s.modelSeconds, 4.4);
  EXPECT_DOUBLE_EQ(s.forwardEquivalents, 880.0);
  EXPECT_DOUBLE_EQ(s.perSecond, 160.0);
  EXPECT_DOUBLE_EQ(s.overhead, 0.25);
  // Occluded forwards not measured: at the batched forward's rate, 40/200 instead of 40/400.
  t.occludedForward = 0;
  s = fa::scorecardSpeed(c, 4, t, 6.0);
  EXPECT_DOUBLE_EQ(s.modelSeconds, 4.8);
}

TEST(EvaluationCost, MeasuredThroughputIsPositive) {
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const fa::ModelThroughput t = fa::measureThroughput(m, 16, 0.2);
  EXPECT_EQ(t.batch, 16);
  // The batched backward runs at the gradient methods' batch, whatever the evaluation batch.
  EXPECT_EQ(t.gradientBatch, fa::chooseBatchSize(0, true, m, 112, 112));
  EXPECT_EQ(fa::measureThroughput(m, 2, 0.01).gradientBatch, fa::chooseBatchSize(0, true, m, 112, 112));
  EXPECT_EQ(fa::measureThroughput(m, 16, 0.01, 3).gradientBatch, 3);
  EXPECT_GE(t.seconds, 4 * 0.2);
  for (double r : {t.forwardSingle, t.forwardBatched, t.backwardSingle, t.backwardBatched}) EXPECT_GT(r, 0.0);
  // Occluded forwards: at the batched forward's rate unless occlusion's options are given (then
  // measured on resnet_fmnist's local prefix).
  EXPECT_EQ(t.occludedForward, t.forwardBatched);
  const fa::SaliencyOptions o;
  const fa::ModelThroughput occluded = fa::measureThroughput(m, 16, 0.05, 0, &o);
  EXPECT_GT(occluded.occludedForward, 0.0);
  EXPECT_NE(occluded.occludedForward, occluded.forwardBatched);
}

TEST(EvaluationCost, ThroughputSamplesGiveTheirMedianPerRate) {
  const auto sample = [](double a, double b, double c, double d) {
    fa::ModelThroughput t{16, a, b, c, d, 1.0};
    t.gradientBatch = 8;
    return t;
  };
  const fa::ModelThroughput odd = fa::medianOf({sample(3, 10, 5, 1), sample(1, 30, 6, 2), sample(2, 20, 4, 9)});
  EXPECT_EQ(odd.forwardSingle, 2.0);
  EXPECT_EQ(odd.forwardBatched, 20.0);
  EXPECT_EQ(odd.backwardSingle, 5.0);
  EXPECT_EQ(odd.backwardBatched, 2.0);
  EXPECT_EQ(odd.batch, 16);
  EXPECT_EQ(odd.gradientBatch, 8);
  EXPECT_EQ(odd.seconds, 3.0);
  const fa::ModelThroughput even = fa::medianOf({sample(1, 10, 5, 1), sample(4, 30, 6, 2)});
  EXPECT_EQ(even.forwardSingle, 2.5);
  EXPECT_EQ(even.forwardBatched, 20.0);
  EXPECT_THROW(fa::medianOf({}), fs::model::InputError);
}

}  // namespace
