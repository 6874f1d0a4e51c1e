#include "analysis/image_io.h"

#include "model/errors.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace stdfs = std::filesystem;
using fs::analysis::decodeImageBytes;
using fs::analysis::loadImageRgb;
using fs::analysis::probeImage;
using fs::analysis::probeImageBytes;
using fs::model::InputError;
using Bytes = std::vector<uint8_t>;

class ImageIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    dir_ = stdfs::temp_directory_path() / ("fs_image_io_" + std::to_string(::getpid()) + "_" + name);
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  std::string path(const std::string& file) const { return (dir_ / file).string(); }

  std::string writeImage(const std::string& file, const cv::Mat& img, const std::vector<int>& params = {}) {
    EXPECT_TRUE(cv::imwrite(path(file), img, params)) << file;
    return path(file);
  }

  std::string writeBytes(const std::string& file, const Bytes& bytes) {
    std::ofstream out(path(file), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path(file);
  }

  static Bytes readBytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  stdfs::path dir_;
};

// Expects an InputError whose message contains every fragment.
template <typename F>
void expectInputError(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown";
  } catch (const InputError& e) {
    for (const auto& s : fragments) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  }
}

cv::Vec3b at(const cv::Mat& rgb, int x, int y) { return rgb.at<cv::Vec3b>(y, x); }

void expectNear(cv::Vec3b got, cv::Vec3b want, int tolerance) {
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], want[c], tolerance) << "channel " << c;
}

struct FormatCase {
  const char* extension;
  const char* format;
  int tolerance;  // lossy codecs
};

TEST_F(ImageIoTest, RoundTripKeepsRgbOrderAndSizeForEveryFormat) {
  const FormatCase cases[] = {{"png", "png", 0}, {"jpg", "jpeg", 6}, {"bmp", "bmp", 0},
                              {"tiff", "tiff", 0}, {"webp", "webp", 6}};
  cv::Mat redBgr(30, 40, CV_8UC3, cv::Scalar(0, 0, 255));
  for (const auto& c : cases) {
    SCOPED_TRACE(c.extension);
    std::string p = writeImage(std::string("red.") + c.extension, redBgr);
    auto info = probeImage(p);
    EXPECT_EQ(info.width, 40);
    EXPECT_EQ(info.height, 30);
    EXPECT_EQ(info.format, c.format);
    cv::Mat rgb = loadImageRgb(p);
    ASSERT_EQ(rgb.type(), CV_8UC3);
    ASSERT_EQ(rgb.size(), cv::Size(40, 30));
    expectNear(at(rgb, 20, 15), {255, 0, 0}, c.tolerance);
  }
}

TEST_F(ImageIoTest, ProbesWebpLosslessProgressiveJpegAndHandMadeHeaders) {
  cv::Mat img(17, 23, CV_8UC3, cv::Scalar(10, 20, 30));
  auto lossless = probeImage(writeImage("l.webp", img, {cv::IMWRITE_WEBP_QUALITY, 101}));
  EXPECT_EQ(lossless.width, 23);
  EXPECT_EQ(lossless.height, 17);
  auto progressive = probeImage(writeImage("p.jpg", img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  EXPECT_EQ(progressive.width, 23);
  EXPECT_EQ(progressive.height, 17);

  Bytes bigTiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 2,
                   1, 0, 0, 3, 0, 0, 0, 1, 0, 123, 0, 0,      // ImageWidth SHORT 123
                   1, 1, 0, 4, 0, 0, 0, 1, 0, 1, 0, 45};      // ImageLength LONG 65581
  auto t = probeImageBytes(bigTiff, "mm.tif");
  EXPECT_EQ(t.width, 123);
  EXPECT_EQ(t.height, 65581);
  EXPECT_EQ(t.format, "tiff");

  Bytes vp8x = {'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X',
                10, 0, 0, 0, 0, 0, 0, 0, 0x1F, 0x03, 0, 0xC7, 0, 0};  // 800 x 200 canvas
  auto w = probeImageBytes(vp8x, "x.webp");
  EXPECT_EQ(w.width, 800);
  EXPECT_EQ(w.height, 200);
}

TEST_F(ImageIoTest, GrayAnd16BitAndFloatAreConvertedToRgb8) {
  expectNear(at(loadImageRgb(writeImage("g.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(100)))), 3, 3),
             {100, 100, 100}, 0);
  cv::Mat deep(8, 8, CV_16UC3, cv::Scalar(257 * 7, 257 * 77, 65535));  // BGR
  expectNear(at(loadImageRgb(writeImage("d.png", deep)), 1, 1), {255, 77, 7}, 0);
  cv::Mat deepGray(8, 8, CV_16UC1, cv::Scalar(257 * 200));
  expectNear(at(loadImageRgb(writeImage("dg.png", deepGray)), 1, 1), {200, 200, 200}, 0);
  // OpenCV writes 3-channel float TIFF as lossy SGILOG, so use 1-channel float here.
  cv::Mat real(4, 3, CV_32FC1);
  real.colRange(0, 1).setTo(-1.0);
  real.colRange(1, 2).setTo(0.5);
  real.colRange(2, 3).setTo(2.0);
  cv::Mat rgb = loadImageRgb(writeImage("f.tiff", real));
  expectNear(at(rgb, 0, 2), {0, 0, 0}, 0);
  expectNear(at(rgb, 1, 2), {128, 128, 128}, 0);
  expectNear(at(rgb, 2, 2), {255, 255, 255}, 0);
}

TEST_F(ImageIoTest, AlphaIsCompositedOnWhite) {
  cv::Mat bgra(10, 10, CV_8UC4, cv::Scalar(0, 0, 255, 255));
  bgra(cv::Rect(0, 0, 5, 10)).setTo(cv::Scalar(0, 0, 255, 0));
  bgra(cv::Rect(5, 0, 2, 10)).setTo(cv::Scalar(0, 0, 255, 128));
  cv::Mat rgb = loadImageRgb(writeImage("a.png", bgra));
  expectNear(at(rgb, 1, 1), {255, 255, 255}, 0);
  expectNear(at(rgb, 5, 1), {255, 127, 127}, 0);
  expectNear(at(rgb, 8, 1), {255, 0, 0}, 0);
  cv::Mat deep(4, 4, CV_16UC4, cv::Scalar(65535, 0, 0, 0));
  expectNear(at(loadImageRgb(writeImage("a16.png", deep)), 1, 1), {255, 255, 255}, 0);
}

// APP1 "Exif" segment holding one IFD0 entry: Orientation (274) = `orientation`.
Bytes exifSegment(int orientation, bool bigEndian) {
  auto u16 = [&](int v) {
    return bigEndian ? Bytes{uint8_t(v >> 8), uint8_t(v)} : Bytes{uint8_t(v), uint8_t(v >> 8)};
  };
  auto u32 = [&](int v) {
    Bytes high = u16(v >> 16), low = u16(v & 0xFFFF);
    Bytes b = bigEndian ? high : low;
    const Bytes& rest = bigEndian ? low : high;
    b.insert(b.end(), rest.begin(), rest.end());
    return b;
  };
  Bytes tiff = bigEndian ? Bytes{'M', 'M', 0, 42} : Bytes{'I', 'I', 42, 0};
  for (const Bytes& part : {u32(8), u16(1), u16(274), u16(3), u32(1), u16(orientation), u16(0), u32(0)}) {
    tiff.insert(tiff.end(), part.begin(), part.end());
  }
  Bytes seg = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  seg[2] = uint8_t((seg.size() - 2) >> 8);
  seg[3] = uint8_t(seg.size() - 2);
  return seg;
}

struct OrientationCase {
  int orientation;
  bool bigEndian;
  cv::Size size;       // after orientation; stored image is 60 x 40
  cv::Point redCorner;  // where the stored top-left marker must end up
};

TEST_F(ImageIoTest, JpegExifOrientationIsApplied) {
  cv::Mat bgr(40, 60, CV_8UC3, cv::Scalar(255, 0, 0));  // blue
  bgr(cv::Rect(0, 0, 12, 12)).setTo(cv::Scalar(0, 0, 255));  // red top-left marker
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95}));
  const OrientationCase cases[] = {{1, false, {60, 40}, {5, 5}},  {3, true, {60, 40}, {54, 34}},
                                   {6, false, {40, 60}, {34, 5}}, {6, true, {40, 60}, {34, 5}},
                                   {8, true, {40, 60}, {5, 54}},  {2, false, {60, 40}, {54, 5}}};
  for (const auto& c : cases) {
    SCOPED_TRACE("orientation " + std::to_string(c.orientation));
    Bytes spliced(jpeg.begin(), jpeg.begin() + 2);  // SOI, then APP1 before the JFIF APP0
    Bytes seg = exifSegment(c.orientation, c.bigEndian);
    spliced.insert(spliced.end(), seg.begin(), seg.end());
    spliced.insert(spliced.end(), jpeg.begin() + 2, jpeg.end());
    std::string p = writeBytes("o" + std::to_string(c.orientation) + ".jpg", spliced);
    EXPECT_EQ(probeImage(p).width, 60);  // the header size, as stored
    cv::Mat rgb = loadImageRgb(p);
    ASSERT_EQ(rgb.size(), c.size);
    expectNear(at(rgb, c.redCorner.x, c.redCorner.y), {255, 0, 0}, 40);
    expectNear(at(rgb, c.size.width / 2, c.size.height / 2), {0, 0, 255}, 40);
  }
}

// PNG signature + IHDR claiming width x height, and no image data at all.
Bytes pngHeaderOnly(uint32_t width, uint32_t height) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {width, height}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  }
  Bytes tail = {8, 2, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};  // 8-bit RGB, bogus CRC
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

TEST_F(ImageIoTest, PixelLimitRefusesBeforeDecoding) {
  std::string p = writeBytes("huge.png", pngHeaderOnly(20000, 20000));
  auto info = probeImage(p);
  EXPECT_EQ(info.width, 20000);
  auto start = std::chrono::steady_clock::now();
  expectInputError([&] { loadImageRgb(p); }, {p, "20000 x 20000", "100000000", "--max-pixels"});
  expectInputError([&] { decodeImageBytes(readBytes(p), "clip", 1000); }, {"clip", "1000 pixels"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  std::string small = writeImage("small.png", cv::Mat(20, 20, CV_8UC3, cv::Scalar::all(9)));
  expectInputError([&] { loadImageRgb(small, 399); }, {small, "400 pixels", "399"});
  EXPECT_EQ(loadImageRgb(small, 400).rows, 20);
  EXPECT_EQ(loadImageRgb(small, 0).rows, 20);  // no limit
}

TEST_F(ImageIoTest, CorruptOrMissingFilesThrowInputErrorNamingThePath) {
  std::vector<uchar> png;
  cv::Mat noise(64, 64, CV_8UC3);
  cv::randu(noise, 0, 255);
  ASSERT_TRUE(cv::imencode(".png", noise, png));
  std::mt19937 rng(7);
  Bytes random(4096);
  for (auto& b : random) b = uint8_t(rng());
  const std::pair<std::string, Bytes> files[] = {
      {"truncated.png", Bytes(png.begin(), png.begin() + png.size() / 2)},
      {"header_only.png", pngHeaderOnly(300, 200)},
      {"cut_ihdr.png", Bytes(png.begin(), png.begin() + 20)},
      {"random.bin", random},
      {"empty.png", {}},
      {"text.jpg", Bytes{'h', 'e', 'l', 'l', 'o', '\n'}},
      {"fake.jpg", Bytes{0xFF, 0xD8, 0xFF, 0xE0, 0x00}},
      {"fake.bmp", Bytes{'B', 'M', 1, 2, 3}},
      {"fake.webp", Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'Q'}},
  };
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    std::string p = writeBytes(name, bytes);
    expectInputError([&] { loadImageRgb(p); }, {p});
  }
  expectInputError([&] { loadImageRgb(writeBytes("bad_data.png", pngHeaderOnly(30, 20))); },
                   {"not a decodable image"});
  expectInputError([&] { probeImage(path("missing.png")); }, {path("missing.png"), "no such file"});
  expectInputError([&] { loadImageRgb(path("missing.png")); }, {path("missing.png")});
  expectInputError([&] { loadImageRgb(dir_.string()); }, {dir_.string(), "directory"});
}

TEST_F(ImageIoTest, MutatedFilesEitherDecodeOrThrowInputError) {
  cv::Mat img(48, 64, CV_8UC3);
  cv::randu(img, 0, 255);
  std::mt19937 rng(11);
  for (const char* ext : {".png", ".jpg", ".bmp", ".tiff", ".webp"}) {
    std::vector<uchar> encoded;
    ASSERT_TRUE(cv::imencode(ext, img, encoded));
    for (int i = 0; i < 30; ++i) {
      Bytes b(encoded.begin(), encoded.end());
      b.resize(i % 2 ? b.size() : rng() % b.size());
      for (int flips = 0; flips < 3 && !b.empty(); ++flips) b[rng() % b.size()] ^= uint8_t(1 + rng() % 255);
      try {
        cv::Mat rgb = decodeImageBytes(b, std::string("mutant") + ext, 1'000'000);
        EXPECT_EQ(rgb.type(), CV_8UC3);
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("mutant"), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
