#include "analysis/preprocess.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace stdfs = std::filesystem;
using fs::analysis::denormalise;
using fs::analysis::preprocess;
using fs::model::InputSpec;
using fs::model::Interpolation;

InputSpec specWith(Interpolation interpolation, double cropPct = 0.875) {
  InputSpec spec;
  spec.interpolation = interpolation;
  spec.cropPct = cropPct;
  return spec;
}

// RGB image with slowly varying channels (no edges, so resamplers agree closely).
cv::Mat smoothImage(int width, int height) {
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double r = 128 + 100 * std::sin(x * 6.0 / width) * std::cos(y * 4.0 / height);
      rgb.at<cv::Vec3b>(y, x) = {cv::saturate_cast<uint8_t>(r), cv::saturate_cast<uint8_t>(255.0 * x / width),
                                 cv::saturate_cast<uint8_t>(255.0 * y / height)};
    }
  }
  return rgb;
}

cv::Mat noiseImage(int width, int height, int seed) {
  cv::Mat rgb(height, width, CV_8UC3);
  cv::theRNG().state = seed;
  cv::randu(rgb, 0, 256);
  return rgb;
}

TEST(Preprocess, OutputShapeForSeveralAspectRatios) {
  for (cv::Size size : {cv::Size(300, 200), cv::Size(200, 300), cv::Size(224, 224), cv::Size(100, 50),
                        cv::Size(1000, 37), cv::Size(1, 1)}) {
    SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
    for (auto interpolation : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic}) {
      auto p = preprocess(noiseImage(size.width, size.height, 1), specWith(interpolation));
      EXPECT_EQ(p.input.sizes(), (at::IntArrayRef{1, 3, 224, 224}));
      EXPECT_EQ(p.input.scalar_type(), at::kFloat);
      EXPECT_EQ(p.resizedCrop.type(), CV_8UC3);
      EXPECT_EQ(p.resizedCrop.size(), cv::Size(224, 224));
      EXPECT_EQ(p.crop.width, 224);
      EXPECT_EQ(p.crop.height, 224);
    }
  }
}

TEST(Preprocess, ConstantImageNormalisesExactly) {
  const cv::Vec3b value(10, 128, 250);
  InputSpec spec = specWith(Interpolation::Bicubic);
  auto p = preprocess(cv::Mat(333, 517, CV_8UC3, cv::Scalar(value[0], value[1], value[2])), spec);
  for (int c = 0; c < 3; ++c) {
    float expected = (static_cast<float>(value[c]) / 255.0f - spec.mean[c]) / spec.std[c];
    at::Tensor channel = p.input[0][c];
    EXPECT_EQ(channel.min().item<float>(), expected) << "channel " << c;
    EXPECT_EQ(channel.max().item<float>(), expected) << "channel " << c;
  }
}

TEST(Preprocess, CropGeometryMapsCentreToCentre) {
  for (cv::Size size : {cv::Size(640, 480), cv::Size(480, 640), cv::Size(101, 999), cv::Size(150, 100)}) {
    auto p = preprocess(noiseImage(size.width, size.height, 2), specWith(Interpolation::Bilinear));
    cv::Point2d centre = p.crop.toOriginal(111.5, 111.5);
    // The crop offset is rounded to whole resized pixels: half a resized pixel of slack.
    EXPECT_NEAR(centre.x, (size.width - 1) / 2.0, 0.5 / p.crop.scale + 1e-9);
    EXPECT_NEAR(centre.y, (size.height - 1) / 2.0, 0.5 / p.crop.scaleY + 1e-9);
    cv::Rect2d rect = p.crop.originalRect();
    EXPECT_NEAR(rect.x + rect.width / 2, size.width / 2.0, 0.5 / p.crop.scale + 1e-9);
    EXPECT_NEAR(rect.width, std::min(size.width, size.height) * 0.875, 1.0 / p.crop.scale);
  }
}

TEST(Preprocess, CropGeometryAgreesWithPixelContent) {
  const int width = 900, height = 700;
  cv::Mat ramp(height, width, CV_8UC3);  // R = x / 4, G = y / 4: positions readable from pixels
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) ramp.at<cv::Vec3b>(y, x) = {uint8_t(x / 4), uint8_t(y / 4), 0};
  }
  auto p = preprocess(ramp, specWith(Interpolation::Bilinear));
  for (int u : {20, 100, 200}) {
    cv::Point2d o = p.crop.toOriginal(u, u);
    cv::Vec3b seen = p.resizedCrop.at<cv::Vec3b>(u, u);
    EXPECT_NEAR(seen[0], o.x / 4 - 0.375, 1.5) << "u " << u;  // mean of floor(x/4) ~ x/4 - 3/8
    EXPECT_NEAR(seen[1], o.y / 4 - 0.375, 1.5) << "v " << u;
  }
}

TEST(Preprocess, DenormaliseInvertsNormalisation) {
  InputSpec spec = specWith(Interpolation::Bicubic);
  auto p = preprocess(noiseImage(300, 260, 3), spec);
  cv::Mat back = denormalise(p.input, spec);
  ASSERT_EQ(back.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(back, p.resizedCrop, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(denormalise(p.input[0], spec), p.resizedCrop, cv::NORM_INF), 0.0);
}

TEST(Preprocess, CropLargerThanResizedImageIsZeroPadded) {
  InputSpec spec = specWith(Interpolation::Bilinear, 1.5);  // resize to 149, crop 224
  auto p = preprocess(cv::Mat(50, 50, CV_8UC3, cv::Scalar::all(200)), spec);
  EXPECT_EQ(p.resizedCrop.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(p.resizedCrop.at<cv::Vec3b>(112, 112), cv::Vec3b(200, 200, 200));
  EXPECT_FLOAT_EQ(p.input[0][0][0][0].item<float>(), -spec.mean[0] / spec.std[0]);
  EXPECT_LT(p.crop.x0, 0.0);
  EXPECT_NEAR(p.crop.toOriginal(111.5, 111.5).x, 24.5, 0.5 / p.crop.scale + 1e-9);
}

TEST(Preprocess, NonSquareTargetKeepsAspectAndCoversTheCrop) {
  InputSpec spec = specWith(Interpolation::Bicubic, 1.0);
  spec.height = 160;
  spec.width = 320;
  auto p = preprocess(noiseImage(400, 400, 4), spec);
  EXPECT_EQ(p.input.sizes(), (at::IntArrayRef{1, 3, 160, 320}));
  EXPECT_DOUBLE_EQ(p.crop.scale, 0.8);
  EXPECT_DOUBLE_EQ(p.crop.scaleY, 0.8);
  EXPECT_DOUBLE_EQ(p.crop.y0, 100.0);
}

TEST(Preprocess, NearestOnlyCopiesSourcePixels) {
  cv::Mat checker(90, 120, CV_8UC3);
  for (int y = 0; y < checker.rows; ++y) {
    for (int x = 0; x < checker.cols; ++x) {
      checker.at<cv::Vec3b>(y, x) = cv::Vec3b::all((x + y) % 2 ? 255 : 7);
    }
  }
  auto p = preprocess(checker, specWith(Interpolation::Nearest));
  for (int y = 0; y < 224; y += 13) {
    for (int x = 0; x < 224; x += 7) {
      uint8_t v = p.resizedCrop.at<cv::Vec3b>(y, x)[0];
      EXPECT_TRUE(v == 7 || v == 255) << int(v);
    }
  }
}

TEST(Preprocess, InterpolationNames) {
  EXPECT_STREQ(fs::model::interpolationName(Interpolation::Nearest), "nearest");
  EXPECT_STREQ(fs::model::interpolationName(Interpolation::Bilinear), "bilinear");
  EXPECT_STREQ(fs::model::interpolationName(Interpolation::Bicubic), "bicubic");
}

// Debian's python3-torchvision is installed for /usr/bin/python3; a pyenv or venv python3
// earlier in PATH usually lacks it. FS_PYTHON overrides.
std::string pythonExecutable() {
  if (const char* env = std::getenv("FS_PYTHON")) return env;
  return stdfs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

constexpr const char* kTorchvisionScript = R"(
import sys
import numpy as np
from PIL import Image
from torchvision import transforms as T
modes = {'nearest': T.InterpolationMode.NEAREST, 'bilinear': T.InterpolationMode.BILINEAR,
         'bicubic': T.InterpolationMode.BICUBIC}
for case in sys.argv[1:]:
    src, dst, mode = case.split('|')
    tf = T.Compose([T.Resize(256, interpolation=modes[mode]), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    tf(Image.open(src).convert('RGB')).numpy().astype(np.float32).tofile(dst)
)";

struct ParityCase {
  std::string name;
  cv::Mat rgb;
  Interpolation interpolation;
};

// PIL's resampling is reproduced exactly (same fixed-point arithmetic), so the only allowed
// difference is one 8-bit level from a tie rounded differently: 1 / 255 / min(std) ~ 0.0175.
// Measured with Debian's Pillow 9.4 / torchvision 0.14: max |diff| = 0 on every case.
TEST(Preprocess, MatchesTorchvisionOnPilImages) {
  stdfs::path dir = stdfs::temp_directory_path() / ("fs_preprocess_parity_" + std::to_string(::getpid()));
  stdfs::create_directories(dir);
  std::shared_ptr<void> cleanup(nullptr, [&](void*) { stdfs::remove_all(dir); });
  const std::vector<ParityCase> cases = {
      {"smooth_bilinear", smoothImage(500, 375), Interpolation::Bilinear},
      {"smooth_bicubic_down6", smoothImage(1600, 1200), Interpolation::Bicubic},
      {"smooth_bicubic_up", smoothImage(150, 97), Interpolation::Bicubic},
      {"noise_bilinear", noiseImage(333, 517, 5), Interpolation::Bilinear},
      {"noise_bicubic", noiseImage(800, 601, 6), Interpolation::Bicubic},
      {"noise_nearest", noiseImage(640, 479, 7), Interpolation::Nearest}};
  std::string script = (dir / "reference.py").string();
  std::ofstream(script) << kTorchvisionScript;
  std::string command = "\"" + pythonExecutable() + "\" \"" + script + "\"";
  for (const auto& c : cases) {
    cv::Mat bgr;
    cv::cvtColor(c.rgb, bgr, cv::COLOR_RGB2BGR);
    ASSERT_TRUE(cv::imwrite((dir / (c.name + ".png")).string(), bgr));
    command += " \"" + (dir / (c.name + ".png")).string() + "|" + (dir / (c.name + ".f32")).string() + "|" +
               fs::model::interpolationName(c.interpolation) + "\"";
  }
  ASSERT_EQ(std::system(command.c_str()), 0) << "torchvision reference failed: " << command;
  const float tolerance = 1.0f / 255.0f / 0.224f + 1e-5f;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    at::Tensor ours = preprocess(c.rgb, specWith(c.interpolation)).input;
    at::Tensor theirs = at::empty({1, 3, 224, 224}, at::kFloat);
    std::ifstream in(dir / (c.name + ".f32"), std::ios::binary);
    in.read(reinterpret_cast<char*>(theirs.data_ptr<float>()), theirs.numel() * sizeof(float));
    ASSERT_EQ(in.gcount(), static_cast<std::streamsize>(theirs.numel() * sizeof(float)));
    at::Tensor diff = (ours - theirs).abs();
    float maxDiff = diff.max().item<float>();
    float meanDiff = diff.mean().item<float>();
    std::cout << c.name << ": max |diff| " << maxDiff << ", mean |diff| " << meanDiff << "\n";
    EXPECT_LE(maxDiff, tolerance);
    EXPECT_LE(meanDiff, 1e-3f);
  }
}

}  // namespace
