// NPY reader/writer: reference inputs, round trips, other versions/dtypes and corrupt files.
#include "model/errors.h"
#include "model/npy.h"
#include "test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs::model {
namespace {


// An NPY file with the given version (1, 2 or 3), header dict text and raw data.
std::string npyBytes(int version, const std::string& dict, const std::string& data) {
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
  const size_t length = dict.size() + 1;
  out += static_cast<char>(length & 0xff);
  out += static_cast<char>((length >> 8) & 0xff);
  if (version >= 2) out += std::string(2, '\0');
  return out + dict + "\n" + data;
}

template <typename T>
std::string rawBytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}


TEST(Npy, ReadsReferenceInput) {
  const at::Tensor input = readNpy(test::refDir("convmlp_tiny/input.npy"));
  EXPECT_EQ(input.sizes(), (std::vector<int64_t>{1, 3, 64, 64}));
  EXPECT_EQ(input.scalar_type(), at::kFloat);
  EXPECT_TRUE(input.isfinite().all().item<bool>());
  EXPECT_GT(input.abs().sum().item<float>(), 0.0f);
}

TEST(Npy, WriteReadRoundTripIsBitIdentical) {
  const std::string dir = test::scratchDir("npy_test");
  const std::vector<at::Tensor> tensors = {at::randn({2, 3, 4}), at::randn({5}), at::tensor(2.5f),
                                           at::randn({3, 4}).t(), at::zeros({0, 3})};
  for (size_t k = 0; k < tensors.size(); ++k) {
    const std::string path = dir + "t" + std::to_string(k) + ".npy";
    writeNpy(path, tensors[k]);
    const at::Tensor back = readNpy(path);
    EXPECT_EQ(back.sizes(), tensors[k].sizes()) << k;
    EXPECT_TRUE(at::equal(back, tensors[k])) << k;
    EXPECT_EQ(std::filesystem::file_size(path) % 64, (back.numel() * 4) % 64) << "header aligned to 64";
  }
}

TEST(Npy, WriterConvertsToFloat32AndRewritesReferenceBytes) {
  const std::string path = test::scratchDir("npy_test") + "logits.npy";
  const at::Tensor logits = readNpy(test::refDir("convmlp_tiny/logits.npy"));
  writeNpy(path, logits.to(at::kDouble));
  EXPECT_TRUE(at::equal(readNpy(path), logits));
}

TEST(Npy, ReadsFloat64Int64AndVersions2And3) {
  const std::string dir = test::scratchDir("npy_test");
  const std::vector<double> doubles = {1.5, -2.25, 3.0, 1e300};
  test::writeBytes(dir + "f8.npy", npyBytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                                      rawBytes(doubles)));
  const at::Tensor f8 = readNpy(dir + "f8.npy");
  EXPECT_EQ(f8.scalar_type(), at::kFloat);
  EXPECT_EQ(f8.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_FLOAT_EQ(f8[0][1].item<float>(), -2.25f);
  EXPECT_TRUE(std::isinf(f8[1][1].item<float>()));

  const std::vector<int64_t> longs = {7, -9, int64_t{1} << 40};
  test::writeBytes(dir + "i8.npy", npyBytes(3, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                      rawBytes(longs)));
  const at::Tensor i8 = readNpy(dir + "i8.npy");
  EXPECT_EQ(i8.scalar_type(), at::kLong);
  EXPECT_EQ(i8[2].item<int64_t>(), int64_t{1} << 40);
}

TEST(Npy, CorruptFilesAreInputErrors) {
  const std::string dir = test::scratchDir("npy_test");
  const std::string four = rawBytes(std::vector<float>{1, 2, 3, 4});
  const std::string prefix = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  const std::string good = prefix + "(2, 2), }";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"bad_magic", "\x93NUMPX" + std::string(60, ' ')},
      {"version_9", npyBytes(9, good, four)},
      {"header_too_long", std::string("\x93NUMPY\x01\x00\xff\xff{}", 12)},
      {"truncated_data", npyBytes(1, good, four.substr(0, 10))},
      {"extra_data", npyBytes(1, good, four + "xx")},
      {"big_endian", npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", four)},
      {"int32", npyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", four)},
      {"fortran", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four)},
      {"no_shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, }", four)},
      {"negative_shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }", four)},
      {"shape_overflow", npyBytes(1, prefix + "(281474976710656, 281474976710656), }", four)},
      {"declares_40GB", npyBytes(1, prefix + "(100000, 100000), }", four)},
      // Found by fuzz_npy: no elements, but contiguous strides beyond int64; LibTorch failed on
      // the tensor later (c10::Error in a conversion) instead of the reader refusing the file.
      {"fuzz_zero_size_stride_overflow",
       std::string("\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<i8', 'fortran_order': False, 'shape': "
                   "(0,3 33333333, 1151133333333, 115114), ?(\x00\x00\xa0" "e': (1, 1, f\x00 Y\xff\x00\x00"
                   "\x00\x00\xff\x00", 128)},
      {"zero_size_stride_overflow", npyBytes(1, prefix + "(0, 1099511627776, 1099511627776), }", "")},
      {"shape_huge_dim", npyBytes(1, prefix + "(99999999999999999999999, 0), }", "")},
      {"shape_unclosed", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2", "")},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    const std::string path = dir + name + ".npy";
    test::writeBytes(path, bytes);
    test::expectInputError([&] { readNpy(path); }, path);
  }
  test::expectInputError([&] { readNpy(dir + "missing.npy"); }, dir + "missing.npy");
}

TEST(Npy, EveryTruncationOfAValidFileIsAnInputError) {
  const std::string dir = test::scratchDir("npy_test");
  writeNpy(dir + "valid.npy", at::arange(6, at::kFloat).reshape({2, 3}));
  std::ifstream in(dir + "valid.npy", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const std::string path = dir + "cut.npy";
    test::writeBytes(path, bytes.substr(0, cut));
    test::expectInputError([&] { readNpy(path); }, path);
  }
}

}  // namespace
}  // namespace fs::model
