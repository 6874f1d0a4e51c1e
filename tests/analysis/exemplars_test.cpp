// Dataset exemplars: the streaming top-k index equals a brute-force sort of every image's channel
// scores (ties by image index), shards merged equal one run byte for byte, the index file reads
// back to the same text, and bad index files or shard sets are refused with the reason.
#include "analysis/features/exemplars.h"
#include "analysis/features/receptive_field.h"
#include "analysis/fashion_mnist.h"
#include "model/errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace {
namespace fa = fs::analysis;

// Fashion-MNIST test images; `period` > 0 repeats the first `period` images (ties on purpose).
fa::ImageSource testImages(int64_t count, int64_t period = 0) {
  fa::ImageSource s = fa::fashionMnistSource(fa::defaultFashionMnistDir(), count);
  if (period > 0) {
    auto inner = s.batch;
    s.batch = [inner, period](int64_t b, int64_t e, const fs::model::InputSpec& spec) {
      std::vector<at::Tensor> xs;
      for (int64_t i = b; i < e; ++i) xs.push_back(inner(i % period, i % period + 1, spec));
      return at::cat(xs, 0);
    };
    s.contentHash = "repeated";
  }
  return s;
}

// Every activation of every image kept (in the run's batches of `batch`: a batched forward need not
// equal a batch-1 forward in the last bits), every channel's scores sorted in full.
void expectBruteForce(fa::LoadedModel& m, const fa::ImageSource& source, const fa::ExemplarIndex& index, int batch) {
  c10::InferenceMode guard;
  for (const auto& tap : index.taps) {
    std::vector<at::Tensor> maps;
    for (int64_t i = 0; i < source.count; i += batch)
      maps.push_back(m.net->forward(source.batch(i, std::min(source.count, i + batch), m.config.input), {tap}).taps.at(tap));
    const at::Tensor all = at::cat(maps, 0).flatten(2);  // [N, C, hw]
    const at::Tensor scores = index.score == fa::ExemplarScore::Max ? std::get<0>(all.max(2)) : all.mean(2);
    const auto s = scores.accessor<float, 2>();
    const fa::ReceptiveField rf = fa::receptiveField(m, tap);
    ASSERT_EQ(int64_t(index.channels.at(tap).size()), scores.size(1));
    for (int64_t c = 0; c < scores.size(1); ++c) {
      std::vector<int64_t> order(size_t(source.count));
      for (int64_t i = 0; i < source.count; ++i) order[size_t(i)] = i;
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return s[a][c] > s[b][c] || (s[a][c] == s[b][c] && a < b);
      });
      const auto& got = index.channels.at(tap)[size_t(c)];
      ASSERT_EQ(int(got.size()), std::min<int>(index.k, int(source.count)));
      for (size_t r = 0; r < got.size(); ++r) {
        ASSERT_EQ(got[r].image, order[r]) << tap << " channel " << c << " rank " << r;
        ASSERT_EQ(got[r].score, s[order[r]][c]) << tap << " channel " << c << " rank " << r;
        const int64_t arg = all[order[r]][c].argmax().item<int64_t>();
        const int w = int(maps[0].size(3));
        ASSERT_EQ(got[r].cellY * w + got[r].cellX, arg) << tap << " channel " << c;
        const fa::PixelBox b = fa::receptiveBox(rf, got[r].cellY, got[r].cellX, index.inputHeight, index.inputWidth);
        ASSERT_EQ(got[r].box[0], b.x0);
        ASSERT_EQ(got[r].box[3], b.y1);
      }
    }
  }
}

TEST(Exemplars, IndexEqualsABruteForceSortOfAllActivations) {
  const fa::ImageSource source = testImages(40);
  for (const char* id : {"resnet_fmnist", "mixer_fmnist"})
    for (auto score : {fa::ExemplarScore::Max, fa::ExemplarScore::Mean}) {
      fa::LoadedModel m = fa::loadModel(id, "", 0);
      fa::ExemplarOptions o;
      o.k = 5, o.score = score, o.batch = 8;
      const fa::ExemplarIndex index = fa::computeExemplars(m, "w", source, o);
      EXPECT_EQ(index.taps, m.net->stages());
      expectBruteForce(m, source, index, o.batch);
    }
}

TEST(Exemplars, TiesGoToTheLowerImageIndex) {
  const fa::ImageSource source = testImages(24, 6);  // images 0..5 four times each
  fa::LoadedModel m = fa::loadModel("convmlp_fmnist", "", 0);
  fa::ExemplarOptions o;
  // One image per forward: on a real AVX2 CPU (AMD EPYC, no AVX-512) the same image's activations
  // differed in the last bits with its batch's size and position (oneDNN's AVX2 kernels block the
  // batch dimension), so equal scores need equal computations.
  o.k = 8, o.batch = 1, o.taps = {"stages.2"};
  const fa::ExemplarIndex index = fa::computeExemplars(m, "w", source, o);
  for (const auto& top : index.channels.at("stages.2")) {
    ASSERT_EQ(top.size(), 8u);
    // The best image appears 4 times with the same score, at its 4 indices in increasing order.
    for (int r = 0; r < 4; ++r) {
      EXPECT_EQ(top[size_t(r)].score, top[0].score);
      EXPECT_EQ(top[size_t(r)].image, top[0].image + 6 * r);
    }
  }
  expectBruteForce(m, source, index, o.batch);
}

TEST(Exemplars, ShardsMergedEqualOneRunAndTheFileRoundTrips) {
  const fa::ImageSource source = testImages(50);
  fa::LoadedModel m = fa::loadModel("puremlp_fmnist", "", 0);
  fa::ExemplarOptions o;
  o.k = 4, o.batch = 1, o.taps = {"conv_stages", "stages.1"};  // bitwise equality: see TiesGoToTheLowerImageIndex
  const std::string one = fa::exemplarIndexText(fa::computeExemplars(m, "w", source, o));
  std::vector<fa::ExemplarIndex> shards;
  for (int k = 3; k >= 1; --k) {
    o.shard = {k, 3};
    shards.push_back(fa::computeExemplars(m, "w", source, o));
  }
  EXPECT_EQ(fa::exemplarIndexText(fa::mergeExemplarShards(shards)), one);
  EXPECT_EQ(fa::exemplarIndexText(fa::parseExemplarIndex(one, "x.json")), one);
  EXPECT_EQ(fa::exemplarIndexText(fa::parseExemplarIndex(fa::exemplarIndexText(shards[1]), "s.json")),
            fa::exemplarIndexText(shards[1]));

  auto expectRefused = [](const std::function<void()>& f, const std::string& words) {
    try {
      f();
      ADD_FAILURE() << "accepted; expected: " << words;
    } catch (const fs::model::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expectRefused([&] { fa::mergeExemplarShards({shards[0], shards[1]}); }, "shard 1/3 is missing");
  expectRefused([&] { fa::mergeExemplarShards({shards[0], shards[0], shards[1]}); }, "given twice");
  auto other = shards[2];
  other.weightsSha256 = "v";
  expectRefused([&] { fa::mergeExemplarShards({shards[0], shards[1], other}); }, "another model, weights");
  expectRefused([&] { fa::parseExemplarIndex("{\"format\": \"x\"}", "bad.json"); }, "bad.json: not a featurescope");
  expectRefused([&] { fa::parseExemplarIndex("{", "cut.json"); }, "cut.json: malformed");
  expectRefused([&] { fa::readExemplarIndex("/nonexistent/i.json"); }, "/nonexistent/i.json");
  std::string bad = one;
  bad.replace(bad.find("\"k\":4"), 5, "\"k\":\"four\"");
  expectRefused([&] { fa::parseExemplarIndex(bad, "k.json"); }, "k.json: malformed");
}

}  // namespace
