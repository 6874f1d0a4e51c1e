// ImageSource: files, bytes and test-set images decoded on the calling (worker) thread; errors
// name the file and keep the previous image.
#include "service_test_support.h"

#include "model/errors.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace {

using fs::model::InputError;
using fs::service::ImageRequest;
using fs::service::Session;

std::vector<uint8_t> fileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(ImageSource, AFileAndItsBytesDecodeToTheSamePixelsAsOpenCv) {
  Session s;
  const std::string path = fs::test::samplePath("coffee.png");
  ImageRequest file;
  file.path = path;
  const auto a = s.images().open(file);
  EXPECT_EQ(a.name, "coffee.png");
  EXPECT_EQ(a.path, std::filesystem::absolute(path).lexically_normal().string());
  ImageRequest bytes;
  bytes.bytes = fileBytes(path);
  bytes.name = "pasted";
  const auto b = s.images().open(bytes);
  EXPECT_EQ(b.name, "pasted");
  EXPECT_TRUE(b.path.empty());
  cv::Mat reference;  // OpenCV's own decoder, BGR -> RGB
  cv::cvtColor(cv::imread(path, cv::IMREAD_COLOR), reference, cv::COLOR_BGR2RGB);
  ASSERT_EQ(a.rgb.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(a.rgb, reference, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(b.rgb, reference, cv::NORM_INF), 0.0);
}

TEST(ImageSource, ACorruptFileNamesItselfAndKeepsTheImage) {
  Session s;
  fs::test::openDemo(s);
  const auto before = s.features().predict(0, 1);
  const std::string bad = (std::filesystem::temp_directory_path() / "fs_service_broken.png").string();
  std::ofstream(bad, std::ios::binary) << "\x89PNG\r\n\x1a\nnot really a png";
  ImageRequest r;
  r.path = bad;
  try {
    s.images().open(r);
    FAIL() << "a corrupt PNG opened";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("fs_service_broken.png"), std::string::npos) << e.what();
  }
  std::filesystem::remove(bad);
  EXPECT_FLOAT_EQ(s.features().predict(0, 1).top[0].prob, before.top[0].prob);  // same image
  EXPECT_THROW(s.images().open(ImageRequest{}), InputError);  // nothing to open
}

TEST(ImageSource, TestSetImagesAreGreyAndIndexChecked) {
  Session s;
  ImageRequest r;
  r.testIndex = 0;
  const auto img = s.images().open(r);
  EXPECT_EQ(img.rgb.size(), cv::Size(28, 28));
  std::vector<cv::Mat> ch;
  cv::split(img.rgb, ch);
  EXPECT_EQ(cv::norm(ch[0], ch[1], cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(ch[0], ch[2], cv::NORM_INF), 0.0);
  EXPECT_NE(img.name.find("#0"), std::string::npos);
  int label = -1;
  fs::service::testSetImage(0, &label);
  EXPECT_EQ(label, 9);  // the first Fashion-MNIST test image is an ankle boot
  EXPECT_THROW(fs::service::testSetImage(10000), InputError);
  EXPECT_THROW(fs::service::testSetImage(-1), InputError);
}

}  // namespace
