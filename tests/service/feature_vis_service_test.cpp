// FeatureVisService (the desktop app's feature visualisation) on the bundled resnet_fmnist demo:
// the exemplar index is cached under its key and reused, a channel's exemplars carry the index's
// entries with their crops and boxes on the opened image, activation maximisation runs seeded and
// cancels, the ERF is the CLI's function's result, and per-channel selectivity equals an
// independent numpy computation (tests/service/selectivity_reference.py).
#include "service_test_support.h"

#include "analysis/batch_export.h"
#include "analysis/fashion_mnist.h"
#include "analysis/features/effective_rf.h"
#include "analysis/features/exemplars.h"
#include "analysis/features/selectivity.h"
#include "analysis/image_io.h"
#include "analysis/inference.h"
#include "analysis/model_loader.h"
#include "analysis/preprocess.h"
#include "model/errors.h"
#include "model/npy.h"
#include "service/image_source.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace {

namespace fa = fs::analysis;
namespace fsv = fs::service;

std::string tempDir(const std::string& name) {
  const std::string dir = std::string(FS_BINARY_DIR) + "/test-data/" + name + "_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// One value per channel from tests/service/selectivity_reference.py (numpy).
std::vector<double> numpyReference(const std::string& dir, const at::Tensor& responses, const at::Tensor* labels) {
  fs::model::writeNpy(dir + "/r.npy", responses);
  std::string cmd = std::string(FS_PYTHON) + " " + FS_SOURCE_DIR + "/tests/service/selectivity_reference.py " + dir + "/r.npy";
  if (labels) {
    fs::model::writeNpy(dir + "/y.npy", labels->to(at::kLong));
    cmd += " " + dir + "/y.npy";
  }
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  if (::pclose(pipe) != 0 || out.empty()) throw std::runtime_error("Python reference failed: " + cmd);
  std::istringstream in(out);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

TEST(FeatureVisService, ExemplarsAreCachedUnderTheirKeyAndDescribeTheirImages) {
  fsv::Session s;
  fs::test::openDemo(s);
  const std::string cache = tempDir("fv_cache");
  fsv::ExemplarsRequest r;
  r.slot = 0, r.data.limit = 64, r.k = 5, r.cacheDir = cache;
  std::atomic<bool> cancel{false};
  std::vector<double> fractions;
  const fsv::ExemplarsReady a = s.featureVis().exemplars(r, [&](double f) { fractions.push_back(f); }, &cancel);
  ASSERT_FALSE(a.cancelled);
  EXPECT_FALSE(a.reused);
  EXPECT_EQ(a.images, 64);
  ASSERT_FALSE(fractions.empty());
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  ASSERT_TRUE(std::filesystem::exists(a.indexPath));
  EXPECT_EQ(std::filesystem::path(a.indexPath).parent_path(), std::filesystem::path(cache) / "exemplars");
  const auto stamp = std::filesystem::last_write_time(a.indexPath);
  const fsv::ExemplarsReady b = s.featureVis().exemplars(r, {}, &cancel);  // same key: read back
  EXPECT_TRUE(b.reused);
  EXPECT_EQ(b.indexPath, a.indexPath);
  EXPECT_EQ(std::filesystem::last_write_time(a.indexPath), stamp);
  r.k = 4;  // another key: another file
  const fsv::ExemplarsReady c = s.featureVis().exemplars(r, {}, &cancel);
  EXPECT_FALSE(c.reused);
  EXPECT_NE(c.indexPath, a.indexPath);
  r.k = 5;
  s.featureVis().exemplars(r, {}, &cancel);

  // The channel's exemplars are the index file's entries, cropped from the image the model saw.
  const fa::ExemplarIndex index = fa::readExemplarIndex(a.indexPath);
  const std::string tap = s.slots().load(0, "resnet_fmnist", "").stages.back();
  ASSERT_EQ(index.taps, fa::tapNames(fa::loadModel("resnet_fmnist", "", 0)));
  const fsv::ChannelExemplars ex = s.featureVis().channelExemplars(0, tap, 3);
  const auto& want = index.channels.at(tap).at(3);
  ASSERT_EQ(ex.exemplars.size(), want.size());
  const fa::ImageSource source = fa::fashionMnistSource(fa::defaultFashionMnistDir(), 64);
  const fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  for (size_t i = 0; i < want.size(); ++i) {
    const fsv::ChannelExemplar& e = ex.exemplars[i];
    EXPECT_EQ(e.image, want[i].image);
    EXPECT_EQ(e.testIndex, int(want[i].image));
    EXPECT_FLOAT_EQ(e.score, want[i].score);
    EXPECT_EQ(e.rank, int(i) + 1);
    ASSERT_EQ(e.crop.cols, want[i].box[2] - want[i].box[0]);
    ASSERT_EQ(e.crop.rows, want[i].box[3] - want[i].box[1]);
    const cv::Mat seen = source.seen(want[i].image, m.config.input);
    const cv::Rect rect(want[i].box[0], want[i].box[1], e.crop.cols, e.crop.rows);
    EXPECT_EQ(cv::norm(seen(rect), e.crop, cv::NORM_INF), 0.0);
    // A 28x28 test image scaled to the model's square input: box / (input / 28).
    const double scale = double(m.config.input.width) / 28.0;
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(e.originalBox[k], want[i].box[k] / scale, 1e-9) << k;
  }
  EXPECT_THROW(s.featureVis().channelExemplars(0, tap, 100000), fs::model::InputError);
  EXPECT_THROW(s.featureVis().channelExemplars(0, "no-such-tap", 0), fs::model::InputError);
  EXPECT_THROW(s.featureVis().channelExemplars(1, tap, 0), fs::model::InputError);  // empty slot

  // Cancelled: no result, no file.
  r.k = 6;
  cancel = true;
  EXPECT_TRUE(s.featureVis().exemplars(r, {}, &cancel).cancelled);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(cache + "/exemplars"), {}), 2);
  std::filesystem::remove_all(cache);
}

// A folder: the exemplars name their files; crops and boxes follow each file's own preprocessing.
TEST(FeatureVisService, FolderExemplarsNameTheirFiles) {
  fsv::Session s;
  fs::test::openDemo(s);
  const std::string cache = tempDir("fv_folder_cache"), folder = std::string(FS_SOURCE_DIR) + "/resources/samples";
  fsv::ExemplarsRequest r;
  r.slot = 0, r.data = {folder, 0}, r.k = 3, r.cacheDir = cache;
  std::atomic<bool> cancel{false};
  const fsv::ExemplarsReady ready = s.featureVis().exemplars(r, {}, &cancel);
  EXPECT_EQ(ready.images, int(fa::listImageFiles(folder).size()));
  const auto info = s.slots().load(0, "resnet_fmnist", "");
  EXPECT_TRUE(s.featureVis().exemplars(r, {}, &cancel).reused);  // the same model reloaded: the same key
  const fsv::ChannelExemplars ex = s.featureVis().channelExemplars(0, info.stages[0], 1);
  ASSERT_EQ(ex.exemplars.size(), 3u);
  const fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  for (const fsv::ChannelExemplar& e : ex.exemplars) {
    EXPECT_EQ(e.testIndex, -1);
    ASSERT_TRUE(std::filesystem::exists(e.path)) << e.path;
    EXPECT_EQ(std::filesystem::path(e.path).filename().string(), e.name);
    const fa::Preprocessed p = fa::preprocess(fa::loadImageRgb(e.path), m.config.input);
    const cv::Rect rect(e.box[0], e.box[1], e.box[2] - e.box[0], e.box[3] - e.box[1]);
    EXPECT_EQ(cv::norm(p.resizedCrop(rect), e.crop, cv::NORM_INF), 0.0);
    // The box's corners back in the model input: (x - x0) * scale.
    EXPECT_NEAR((e.originalBox[0] - p.crop.x0) * p.crop.scale, e.box[0], 1e-9);
    EXPECT_NEAR((e.originalBox[3] - p.crop.y0) * p.crop.scaleY, e.box[3], 1e-9);
  }
  std::filesystem::remove_all(cache);
}

// The other families' demos: token-mixing (global fields) and convolutional-MLP stages alike.
TEST(FeatureVisService, EveryPassRunsOnTheMixerAndConvMlpDemos) {
  for (const std::string id : {"mixer_fmnist", "convmlp_fmnist"}) {
    SCOPED_TRACE(id);
    fsv::Session s;
    fs::test::openDemo(s, id);
    const std::string cache = tempDir("fv_family_cache");
    std::atomic<bool> cancel{false};
    fsv::ExemplarsRequest r;
    r.slot = 0, r.data.limit = 16, r.k = 2, r.cacheDir = cache;
    ASSERT_FALSE(s.featureVis().exemplars(r, {}, &cancel).cancelled);
    const auto info = s.slots().load(0, id, "");
    const fsv::SlotErf erf = s.featureVis().erf({0, {std::string(), 2}, 2}, {}, &cancel);
    ASSERT_EQ(erf.stages.size(), info.stages.size());
    for (size_t i = 0; i < info.stages.size(); ++i) {
      const fsv::ChannelExemplars ex = s.featureVis().channelExemplars(0, info.stages[i], 0);
      ASSERT_EQ(ex.exemplars.size(), 2u);
      EXPECT_GT(ex.exemplars[0].crop.total(), 0u);
      if (erf.stages[i].global)  // a global field: the crop is the whole input
        EXPECT_EQ(ex.exemplars[0].crop.size(), cv::Size(info.inputWidth, info.inputHeight));
      EXPECT_GT(cv::sum(erf.stages[i].map)[0], 0.0);
    }
    if (id == "mixer_fmnist") EXPECT_TRUE(erf.stages.back().global);
    const fsv::ChannelVis v = s.featureVis().visualize({0, info.stages.back(), 0, 4, 0}, {}, &cancel);
    EXPECT_EQ(v.image.size(), cv::Size(info.inputWidth, info.inputHeight));
    std::filesystem::remove_all(cache);
  }
}

TEST(FeatureVisService, VisualizeIsSeededReportsItsPeakAndCancels) {
  fsv::Session s;
  fs::test::openDemo(s);
  const auto info = s.slots().load(0, "resnet_fmnist", "");
  fsv::ChannelVisRequest r{0, info.stages.back(), 2, 12, 7};
  std::atomic<bool> cancel{false};
  const fsv::ChannelVis a = s.featureVis().visualize(r, {}, &cancel);
  const fsv::ChannelVis b = s.featureVis().visualize(r, {}, &cancel);
  ASSERT_FALSE(a.cancelled);
  EXPECT_EQ(a.image.size(), cv::Size(info.inputWidth, info.inputHeight));
  EXPECT_TRUE(a.greyscale);
  std::vector<cv::Mat> planes;
  cv::split(a.image, planes);
  EXPECT_EQ(cv::norm(planes[0], planes[1], cv::NORM_INF), 0.0);  // greyscale replicated to RGB
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);     // same seed, same image
  EXPECT_DOUBLE_EQ(a.activation, b.activation);
  EXPECT_GE(a.peak, a.activation);  // the max over positions is at least their mean
  r.channel = 100000;
  EXPECT_THROW(s.featureVis().visualize(r, {}, &cancel), fs::model::InputError);
  r.channel = 2;
  cancel = true;
  EXPECT_TRUE(s.featureVis().visualize(r, {}, &cancel).cancelled);
}

TEST(FeatureVisService, ErfIsTheCliFunctionsResult) {
  fsv::Session s;
  fs::test::openDemo(s);
  fsv::ErfRequest r;
  r.slot = 0, r.data.limit = 6, r.batch = 4;
  std::atomic<bool> cancel{false};
  const fsv::SlotErf got = s.featureVis().erf(r, {}, &cancel);
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const auto want = fa::effectiveReceptiveFields(m, m.net->stages(), fa::fashionMnistSource(fa::defaultFashionMnistDir(), 6), 4);
  ASSERT_EQ(got.stages.size(), want.size());
  EXPECT_EQ(got.images, 6);
  for (size_t i = 0; i < want.size(); ++i) {
    const fsv::StageErf& g = got.stages[i];
    EXPECT_EQ(g.tap, want[i].tap);
    EXPECT_DOUBLE_EQ(g.radius50, want[i].radius50);
    EXPECT_DOUBLE_EQ(g.radius90, want[i].radius90);
    EXPECT_EQ(g.rfSize, want[i].rf.size);
    EXPECT_EQ(g.global, want[i].rf.global);
    const at::Tensor w = want[i].map.to(at::kFloat).contiguous();
    const cv::Mat wm(int(w.size(0)), int(w.size(1)), CV_32F, w.data_ptr<float>());
    EXPECT_LE(cv::norm(g.map, wm, cv::NORM_INF), 1e-6 * std::max(1.0, cv::norm(wm, cv::NORM_INF)));
    EXPECT_LE(g.rfBox[0], int(g.centreX + 0.5));
    EXPECT_GE(g.rfBox[2], int(g.centreX));
  }
}

TEST(FeatureVisService, SelectivityEqualsNumpy) {
  const std::string dir = tempDir("fv_selectivity");
  // The formulas on hand-made responses: random, one silent channel, one channel for class 2 only.
  at::Generator gen = at::detail::createCPUGenerator(5);
  at::Tensor r = at::rand({50, 6}, gen, at::kFloat).to(at::kDouble);  // float32: what the NPY holds
  r.select(1, 4).zero_();
  const at::Tensor y = at::arange(50, at::kLong).remainder(5);
  r.select(1, 5).copy_(y.eq(2).to(at::kDouble) * 3.0);
  const auto csi = fa::classSelectivityIndex(r, y, 5);
  const auto ls = fa::lifetimeSparseness(r);
  const auto npCsi = numpyReference(dir, r, &y), npLs = numpyReference(dir, r, nullptr);
  ASSERT_EQ(npCsi.size(), 6u);
  ASSERT_EQ(npLs.size(), 6u);
  for (size_t c = 0; c < 6; ++c) {
    EXPECT_NEAR(csi[c], npCsi[c], 1e-12) << c;
    EXPECT_NEAR(ls[c], npLs[c], 1e-12) << c;
  }
  EXPECT_EQ(csi[4], 0.0);
  EXPECT_NEAR(csi[5], 1.0, 1e-12);
  EXPECT_THROW(fa::classSelectivityIndex(r, y.narrow(0, 0, 10), 5), fs::model::InputError);
  EXPECT_THROW(fa::classSelectivityIndex(r, at::zeros({50}, at::kLong), 5), fs::model::InputError);

  // The service over 40 test images: numpy's index of the responses taken image by image.
  fsv::Session s;
  fs::test::openDemo(s);
  const auto info = s.slots().load(0, "resnet_fmnist", "");
  const std::string tap = info.stages[1];
  std::atomic<bool> cancel{false};
  const fsv::ChannelSelectivity got = s.featureVis().selectivity({0, tap, {std::string(), 40}}, {}, &cancel);
  EXPECT_EQ(got.measure, "class selectivity index");
  fa::LoadedModel m = fa::loadModel("resnet_fmnist", "", 0);
  const fa::ImageSource source = fa::fashionMnistSource(fa::defaultFashionMnistDir(), 40);
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < 40; ++i) {
    c10::InferenceMode guard;
    const at::Tensor a = m.net->forward(source.batch(i, i + 1, m.config.input), {tap}).taps.at(tap)[0];
    rows.push_back(a.clamp_min(0).flatten(1).mean(1).to(at::kDouble));
  }
  const at::Tensor labels = fa::loadFashionMnist(fa::defaultFashionMnistDir(), false).labels.narrow(0, 0, 40);
  const auto want = numpyReference(dir, at::stack(rows), &labels);
  ASSERT_EQ(got.values.size(), want.size());
  for (size_t c = 0; c < want.size(); ++c) EXPECT_NEAR(got.values[c], want[c], 1e-5) << c;
  // A folder: the lifetime sparseness.
  const fsv::ChannelSelectivity folder =
      s.featureVis().selectivity({0, tap, {std::string(FS_SOURCE_DIR) + "/resources/samples", 0}}, {}, &cancel);
  EXPECT_EQ(folder.measure, "lifetime sparseness");
  EXPECT_EQ(folder.values.size(), got.values.size());
  std::filesystem::remove_all(dir);
}

}  // namespace
