// figure and export end to end on the tiny reference models: figure files in three formats, export
// outputs and manifest (checkpoint SHA-256 checked against sha256sum), shards that cover every
// image exactly once, restart, stale temporaries, and a corrupt image (listed, exit code 3).
#include "cli_test_support.h"
#include "model/npy.h"
#include "tests/model/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace {
namespace figure_export_cli_test {
using fs::test::CliRun;
using fs::test::slurp;
CliRun cli(const std::string& args) { return fs::test::runCli(args); }
namespace stdfs = std::filesystem;
using nlohmann::json;



std::string workDir() {
  const std::string d = std::string(FS_BINARY_DIR) + "/test-data/figure_export_cli_" + std::to_string(getpid());
  stdfs::create_directories(d);
  return d;
}


std::string weights(const std::string& f) { return fs::test::refDir(f) + "/weights.safetensors"; }
std::string modelArg(const std::string& f) {
  return "--model " + fs::test::refDir(f) + "/config.json:" + weights(f);
}

using fs::test::writeBmp;

std::string imageFolder(const std::string& name, bool withCorrupt) {
  const std::string dir = workDir() + "/" + name;
  stdfs::create_directories(dir);
  writeBmp(dir + "/a.bmp", 80, 64, 1);
  writeBmp(dir + "/b.bmp", 64, 96, 2);
  writeBmp(dir + "/c.bmp", 70, 70, 3);
  std::ofstream(dir + "/notes.txt") << "not an image";
  if (withCorrupt) std::ofstream(dir + "/bad.png", std::ios::binary) << "\x89PNG\r\n\x1a\nthis is not a png";
  return dir;
}

std::string sha256sum(const std::string& path) {
  FILE* p = popen(("sha256sum '" + path + "'").c_str(), "r");
  char buf[65] = {0};
  if (!p || std::fread(buf, 1, 64, p) != 64) return "";
  pclose(p);
  return std::string(buf, 64);
}

json readJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string exportArgs(const std::string& images, const std::string& out) {
  return "export " + modelArg("convmlp_tiny") + " " + modelArg("mixer_tiny") + " --images " + images + " --out " + out +
         " --methods gradcam";
}

TEST(FigureCli, WritesPngPdfAndSvg) {
  const std::string dir = workDir();
  writeBmp(dir + "/in.bmp", 96, 80, 4);
  const std::string models = modelArg("convmlp_tiny") + " " + modelArg("mixer_tiny") + " " + modelArg("resmlp_tiny");
  const CliRun png = cli("figure " + models + " --image " + dir + "/in.bmp --dpi 100 --out " + dir + "/fig.png");
  ASSERT_EQ(png.code, 0) << png.err;
  EXPECT_EQ(slurp(dir + "/fig.png").compare(0, 8, "\x89PNG\r\n\x1a\n"), 0);
  EXPECT_NE(png.out.find("px at 100 dpi"), std::string::npos) << png.out;
  const CliRun pdf = cli("figure " + models + " --image " + dir + "/in.bmp --norm shared --rank mean --out " + dir +
                         "/fig.pdf --title 'Tiny models'");
  ASSERT_EQ(pdf.code, 0) << pdf.err;
  EXPECT_EQ(slurp(dir + "/fig.pdf").rfind("%PDF-", 0), 0u);
  const CliRun svg = cli("figure " + models + " --image " + dir + "/in.bmp --saliency gradcam --norm tap --rank "
                         "contribution --colormap viridis --channels 6 --out " + dir + "/fig.svg");
  ASSERT_EQ(svg.code, 0) << svg.err;
  const std::string text = slurp(dir + "/fig.svg");
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("Grad-CAM"), std::string::npos);
  for (const auto& e : stdfs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(FigureCli, BadArgumentsAreUsageOrInputErrors) {
  const std::string dir = workDir();
  writeBmp(dir + "/in2.bmp", 64, 64, 5);
  const std::string base = "figure " + modelArg("convmlp_tiny") + " --image " + dir + "/in2.bmp";
  EXPECT_EQ(cli(base + " --out " + dir + "/x.jpg").code, 3);
  EXPECT_EQ(cli(base + " --rank loudest --out " + dir + "/x.png").code, 2);
  EXPECT_EQ(cli(base + " --stages nope --out " + dir + "/x.png").code, 3);
  const CliRun r = cli(base + " --saliency nope --out " + dir + "/x.png");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("gradcam"), std::string::npos) << r.err;
  EXPECT_EQ(cli("figure --image " + dir + "/in2.bmp --out " + dir + "/x.png").code, 2);
}

TEST(ExportCli, ShardsCoverEveryImageOnceAndTheManifestDescribesTheRun) {
  const std::string images = imageFolder("shard_images", false), out = workDir() + "/shard_out";
  const CliRun s1 = cli(exportArgs(images, out) + " --shard 1/2");
  ASSERT_EQ(s1.code, 0) << s1.err;
  const CliRun s2 = cli(exportArgs(images, out) + " --shard 2/2");
  ASSERT_EQ(s2.code, 0) << s2.err;
  EXPECT_NE(s1.err.find("export [1/2] a.bmp: done"), std::string::npos) << s1.err;
  const json m1 = readJson(out + "/manifest-shard-1-of-2.json"), m2 = readJson(out + "/manifest-shard-2-of-2.json");
  std::multiset<std::string> seen;
  for (const json* m : {&m1, &m2})
    for (const auto& [name, entry] : (*m)["images"].items()) {
      seen.insert(name);
      EXPECT_EQ(entry["status"], "done") << name;
    }
  EXPECT_EQ(seen, (std::multiset<std::string>{"a.bmp", "b.bmp", "c.bmp"}));
  EXPECT_TRUE(m1["images"].contains("a.bmp") && m1["images"].contains("c.bmp") && m2["images"].contains("b.bmp"));
  EXPECT_EQ(m1["version"], FS_VERSION);
  EXPECT_EQ(m1["shard"]["index"], 1);
  EXPECT_EQ(m1["shard"]["count"], 2);
  ASSERT_EQ(m1["models"].size(), 2u);
  const json& model = m1["models"][0];
  EXPECT_EQ(model["key"], "convmlp_tiny");
  EXPECT_EQ(model["weights_sha256"], sha256sum(weights("convmlp_tiny")));
  EXPECT_EQ(model["preprocessing"]["size"], json({64, 64}));
  EXPECT_TRUE(model["preprocessing"].contains("mean") && model["preprocessing"].contains("interpolation"));
  EXPECT_EQ(m1["methods"][0]["name"], "gradcam");
  EXPECT_TRUE(m1["methods"][0]["parameters"].contains("target"));
  const json& outputs = m1["images"]["a.bmp"]["models"]["convmlp_tiny"];
  const at::Tensor tap = fs::model::readNpy(out + "/" + outputs["features"]["conv_stages"].get<std::string>());
  EXPECT_EQ(tap.sizes(), at::IntArrayRef({1, 16, 8, 8}));
  EXPECT_TRUE(stdfs::exists(out + "/a/mixer_tiny/features/blocks.1.npy"));
  EXPECT_TRUE(stdfs::exists(out + "/" + outputs["saliency"]["gradcam"]["png"].get<std::string>()));
  EXPECT_EQ(fs::model::readNpy(out + "/b/convmlp_tiny/saliency/gradcam.npy").dim(), 2);
}

TEST(ExportCli, RestartSkipsFinishedImagesAndRedoesIncompleteOnes) {
  const std::string images = imageFolder("restart_images", false), out = workDir() + "/restart_out";
  ASSERT_EQ(cli(exportArgs(images, out)).code, 0);
  const std::string npy = out + "/b/mixer_tiny/features/blocks.0.npy";
  const auto stamp = stdfs::last_write_time(npy);
  const CliRun again = cli(exportArgs(images, out));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("0 done, 3 skipped, 0 failed"), std::string::npos) << again.out;
  EXPECT_EQ(stdfs::last_write_time(npy), stamp);
  // An interrupted image: one output missing and a stale temporary from a killed write.
  stdfs::remove(out + "/c/convmlp_tiny/saliency/gradcam.png");
  std::ofstream(out + "/c/convmlp_tiny/features/stages.0.npy.tmp-Ab12Cd") << "half";
  const CliRun resumed = cli(exportArgs(images, out));
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("1 done, 2 skipped, 0 failed"), std::string::npos) << resumed.out;
  EXPECT_TRUE(stdfs::exists(out + "/c/convmlp_tiny/saliency/gradcam.png"));
  EXPECT_FALSE(stdfs::exists(out + "/c/convmlp_tiny/features/stages.0.npy.tmp-Ab12Cd"));
  EXPECT_EQ(readJson(out + "/manifest.json")["images"].size(), 3u);
}

TEST(ExportCli, CorruptImageIsListedAsFailedWithExitCode3) {
  const std::string images = imageFolder("corrupt_images", true), out = workDir() + "/corrupt_out";
  const CliRun r = cli(exportArgs(images, out) + " --methods none --taps all");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("bad.png: FAILED"), std::string::npos) << r.err;
  const json m = readJson(out + "/manifest.json");
  EXPECT_EQ(m["images"]["bad.png"]["status"], "failed");
  EXPECT_NE(m["images"]["bad.png"]["error"].get<std::string>().find("bad.png"), std::string::npos);
  EXPECT_EQ(m["images"]["a.bmp"]["status"], "done");
  EXPECT_EQ(m["summary"]["failed"], 1);
  EXPECT_TRUE(stdfs::exists(out + "/a/convmlp_tiny/features/tokenizer.npy"));  // --taps all
  EXPECT_FALSE(stdfs::exists(out + "/bad"));
  EXPECT_FALSE(m["images"].contains("notes.txt"));
}

TEST(ExportCli, BadShardAndUnknownMethodAreRejected) {
  const std::string images = imageFolder("arg_images", false), out = workDir() + "/arg_out";
  EXPECT_EQ(cli(exportArgs(images, out) + " --shard 3/2").code, 2);
  EXPECT_EQ(cli(exportArgs(images, out) + " --shard x").code, 2);
  const CliRun r = cli("export " + modelArg("convmlp_tiny") + " --images " + images + " --out " + out +
                       " --methods gradcam,nope");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("integrated_gradients"), std::string::npos) << r.err;
  EXPECT_EQ(cli("export " + modelArg("convmlp_tiny") + " --images " + out + "/missing --out " + out).code, 3);
}

// An output folder that cannot be made (a file where a folder must go) is an input error naming
// the folder and the reason, not an internal one; the same for the demo's folder.
TEST(ExportCli, UncreatableOutputFolderIsAnInputError) {
  const std::string images = imageFolder("blocked_images", false), file = workDir() + "/blocked_file";
  { std::ofstream(file) << "x"; }
  const CliRun r = cli(exportArgs(images, file + "/out"));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find(file + "/out: cannot create folder (Not a directory)"), std::string::npos) << r.err;
  const CliRun demo = cli("demo --out " + file + "/demo");
  EXPECT_EQ(demo.code, 3) << demo.err;
  EXPECT_NE(demo.err.find(file + "/demo: cannot create folder (Not a directory)"), std::string::npos) << demo.err;
}

}  // namespace figure_export_cli_test
}  // namespace
