// encodePngInBands: the decoded PNG (Qt's reader) has every pixel that the bands painted, for a
// height that is not a multiple of the band, with the resolution in pHYs; an exception from the
// painter and an empty picture are errors, not files.
#include "render/banded_png.h"

#include "model/errors.h"

#include <QColor>
#include <QImage>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace {

QRgb patternAt(int x, int y) { return qRgb((x * 7 + y) % 256, (y * 13) % 256, (x * y) % 256); }

TEST(BandedPng, DecodesToThePaintedRowsAcrossBands) {
  const QSize size(37, 50);
  std::vector<int> tops;
  const QByteArray png = fs::render::encodePngInBands(
      size, 5906,
      [&](QImage& band, int top) {
        tops.push_back(top);
        EXPECT_EQ(band.format(), QImage::Format_RGB32);
        EXPECT_EQ(band.pixel(3, 2), qRgb(255, 255, 255));  // every band starts white
        for (int y = 0; y < band.height(); ++y)
          for (int x = 0; x < band.width(); ++x) band.setPixel(x, y, patternAt(x, top + y));
      },
      16);
  EXPECT_EQ(tops, (std::vector<int>{0, 16, 32, 48}));
  const QImage img = QImage::fromData(png, "PNG");
  ASSERT_FALSE(img.isNull());
  ASSERT_EQ(img.size(), size);
  EXPECT_FALSE(img.hasAlphaChannel());
  EXPECT_EQ(img.dotsPerMeterX(), 5906);
  EXPECT_EQ(img.dotsPerMeterY(), 5906);
  int wrong = 0;
  for (int y = 0; y < size.height(); ++y)
    for (int x = 0; x < size.width(); ++x) wrong += img.pixel(x, y) != patternAt(x, y);
  EXPECT_EQ(wrong, 0);
}

TEST(BandedPng, OneBandWhenThePictureIsSmaller) {
  int calls = 0;
  const QByteArray png = fs::render::encodePngInBands(QSize(4, 3), 0, [&](QImage& band, int) {
    ++calls;
    EXPECT_EQ(band.height(), 3);
    band.setPixel(1, 1, qRgb(10, 20, 30));
  });
  EXPECT_EQ(calls, 1);
  const QImage img = QImage::fromData(png, "PNG");
  ASSERT_EQ(img.size(), QSize(4, 3));
  EXPECT_EQ(img.pixel(1, 1), qRgb(10, 20, 30));
  EXPECT_EQ(img.pixel(0, 0), qRgb(255, 255, 255));
}

TEST(BandedPng, ErrorsAreExceptionsNotFiles) {
  const auto nothing = [](QImage&, int) {};
  EXPECT_THROW(fs::render::encodePngInBands(QSize(0, 10), 0, nothing), fs::model::InputError);
  EXPECT_THROW(fs::render::encodePngInBands(QSize(10, 10), 0, nothing, 0), fs::model::InputError);
  EXPECT_THROW(fs::render::encodePngInBands(QSize(10, 40), 0,
                                            [](QImage&, int top) {
                                              if (top > 0) throw std::runtime_error("painter failed");
                                            },
                                            8),
               std::runtime_error);
}

}  // namespace
