// ExportService: the manifest records the image's and the checkpoint's SHA-256 (checked with
// sha256sum), maps are written by the one NPY writer, bad requests are InputErrors.
#include "service_test_support.h"

#include "model/errors.h"
#include "model/npy.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

namespace fsys = std::filesystem;

std::string sha256sum(const std::string& path) {
  std::string out;
  FILE* p = popen(("sha256sum '" + path + "'").c_str(), "r");
  char buf[128];
  if (p && fgets(buf, sizeof buf, p)) out.assign(buf, 64);
  if (p) pclose(p);
  return out;
}

TEST(ExportService, ManifestNamesTheWeightsByTheirSha256) {
  fs::service::Session s;
  const std::string weights = std::string(FS_SOURCE_DIR) + "/resources/models/resnet_fmnist.safetensors";
  s.slots().load(0, "resnet_fmnist", weights);
  fs::service::ImageRequest r;
  r.path = fs::test::samplePath("fmnist_0000_ankle-boot.png");
  s.images().open(r);
  const std::string out = (fsys::temp_directory_path() / "fs_export_service.png").string();
  s.exports().writeManifest(out, {"view:compare", {{"colormap", "viridis"}}});
  std::ifstream f(out + ".manifest.json");
  const auto m = nlohmann::json::parse(f);
  EXPECT_EQ(m["what"], "view:compare");
  EXPECT_EQ(m["settings"]["colormap"], "viridis");
  ASSERT_EQ(m["models"].size(), 1u);
  EXPECT_EQ(m["models"][0]["weights_sha256"], sha256sum(weights));
  EXPECT_EQ(m["image"]["width"], 28);
  fsys::remove(out + ".manifest.json");
}

TEST(ExportService, MapsAreWrittenAsFloat32NpyAndBadMapsLeaveNoFile) {
  const std::string path = (fsys::temp_directory_path() / "fs_export_service_map.npy").string();
  cv::Mat map(3, 4, CV_32F);
  for (int i = 0; i < 12; ++i) map.at<float>(i / 4, i % 4) = 0.5f * float(i) - 2.0f;
  fs::service::writeMapNpy(path, map);
  const at::Tensor t = fs::model::readNpy(path);
  ASSERT_EQ(t.sizes(), (at::IntArrayRef{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(t[i / 4][i % 4].item<float>(), 0.5f * float(i) - 2.0f);
  fsys::remove(path);
  EXPECT_THROW(fs::service::writeMapNpy(path, cv::Mat(3, 4, CV_8U, cv::Scalar(1))), fs::model::InputError);
  EXPECT_FALSE(fsys::exists(path));
}

TEST(ExportService, NothingLoadedIsAnInputError) {
  fs::service::Session s;
  EXPECT_THROW(s.exports().batchExport({FS_SOURCE_DIR "/resources/samples", "/tmp/unused", {}, "stages"}),
               fs::model::InputError);
  EXPECT_THROW(s.exports().paperFigure({}), fs::model::InputError);
}

}  // namespace
