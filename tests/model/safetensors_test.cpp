// safetensors reader/writer: reference files, round trips and generated corrupt files.
#include "model/checkpoint.h"
#include "model/errors.h"
#include "model/safetensors.h"
#include "test_support.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs::model {
namespace {


std::string u64(uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

std::string safetensorsBytes(const std::string& header, size_t dataBytes) {
  return u64(header.size()) + header + std::string(dataBytes, '\x01');
}



TEST(Safetensors, ReadsReferenceFile) {
  const TensorDict dict = readSafetensors(test::refDir("convmlp_tiny/weights.safetensors"));
  EXPECT_EQ(dict.format, "safetensors");
  EXPECT_EQ(dict.tensors.size(), 124u);
  EXPECT_EQ(dict.metadata.at("format"), "pt");
  const at::Tensor* conv = dict.find("tokenizer.block.0.weight");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->sizes(), (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(conv->scalar_type(), at::kFloat);
  const at::Tensor* tracked = dict.find("tokenizer.block.1.num_batches_tracked");
  ASSERT_NE(tracked, nullptr);
  EXPECT_EQ(tracked->scalar_type(), at::kLong);
  EXPECT_EQ(tracked->dim(), 0);
}

TEST(Safetensors, HalfAndBFloat16BecomeFloat32) {
  const TensorDict f32 = readSafetensors(test::refDir("convmlp_tiny/weights.safetensors"));
  for (const auto& [file, type] : {std::pair{"weights_f16", at::kHalf}, std::pair{"weights_bf16", at::kBFloat16}}) {
    const TensorDict low = readSafetensors(test::refDir("convmlp_tiny/") + file + ".safetensors");
    ASSERT_EQ(low.tensors.size(), f32.tensors.size()) << file;
    for (const auto& [name, tensor] : low.tensors) {
      const at::Tensor* ref = f32.find(name);
      ASSERT_NE(ref, nullptr) << name;
      if (!ref->is_floating_point()) continue;
      EXPECT_EQ(tensor.scalar_type(), at::kFloat) << name;
      EXPECT_TRUE(at::equal(tensor, ref->to(type).to(at::kFloat))) << file << " " << name;
      EXPECT_TRUE(at::allclose(tensor, *ref, 1e-2, 1e-3)) << file << " " << name;
    }
  }
}

TEST(Safetensors, WriteReadRoundTripIsBitIdentical) {
  const std::string path = test::scratchDir("safetensors_test") + "round_trip.safetensors";
  TensorDict dict;
  dict.tensors = {{"b.weight", at::randn({3, 5})},
                  {"a.bias", at::randn({7}).mul(1e30)},
                  {"scalar", at::tensor(3.5f)},
                  {"count", at::tensor(int64_t{42})},
                  {"empty", at::zeros({0, 4})},
                  {"strided", at::randn({4, 6}).t()}};
  dict.metadata = {{"format", "pt"}, {"note", "round trip"}};
  writeSafetensors(path, dict);
  const TensorDict back = readSafetensors(path);
  test::expectEqualDicts(dict, back);
  EXPECT_EQ(back.metadata, dict.metadata);
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST(Safetensors, PthToSafetensorsRoundTripIsBitIdentical) {
  const std::string path = test::scratchDir("safetensors_test") + "from_pth.safetensors";
  const TensorDict pth = readCheckpoint(test::refDir("convmlp_tiny/weights.pth"));
  writeSafetensors(path, pth);
  test::expectEqualDicts(pth, readCheckpoint(path));
  test::expectEqualDicts(readSafetensors(test::refDir("convmlp_tiny/weights.safetensors")), readSafetensors(path));
}

TEST(Safetensors, WriterRefusesUnsupportedTypes) {
  TensorDict dict;
  dict.tensors = {{"flags", at::ones({2}, at::kBool)}};
  EXPECT_THROW(writeSafetensors(test::scratchDir("safetensors_test") + "bad.safetensors", dict), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(test::scratchDir("safetensors_test") + "bad.safetensors"));
}

TEST(Safetensors, WriteToMissingFolderIsInputError) {
  const std::string path = test::scratchDir("safetensors_test") + "no/such/folder/x.safetensors";
  test::expectInputError([&] { writeSafetensors(path, TensorDict{}); }, path);
}

struct CorruptCase {
  std::string name;
  std::string bytes;
  std::string needle;
};

// One header entry: "name":{"dtype":..,"shape":..,"data_offsets":..} from JSON fragments.
std::string entry(const std::string& name, const std::string& shape, const std::string& offsets,
                  const std::string& dtype = "\"F32\"") {
  return "\"" + name + R"(":{"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

std::string oneTensor(const std::string& shape, const std::string& offsets, const std::string& dtype = "\"F32\"",
                      size_t dataBytes = 8) {
  return safetensorsBytes("{" + entry("w", shape, offsets, dtype) + "}", dataBytes);
}

std::vector<CorruptCase> corruptCases() {
  const std::string ok = entry("w", "[2]", "[0,8]");
  const std::string fields = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  return {
      {"empty", "", ""},
      {"short", "abc", ""},
      {"truncated", safetensorsBytes("{" + ok + "}", 8).substr(0, 40), ""},
      {"header_longer_than_file", u64(1000) + "{}", "exceeds"},
      {"header_length_huge", u64(uint64_t{1} << 63) + "{}", "exceeds"},
      {"header_length_max", u64(~uint64_t{0}) + "{}", ""},
      {"not_json", safetensorsBytes("{not json", 0), "JSON"},
      {"json_array", safetensorsBytes("[1,2]", 0), "object"},
      {"json_string", safetensorsBytes("\"w\"", 0), "object"},
      {"duplicate_names", safetensorsBytes("{" + ok + "," + ok + "}", 8), "duplicate"},
      {"duplicate_field", safetensorsBytes(R"({"w":{"dtype":"F32",)" + fields + "}}", 8), "duplicate"},
      {"overlap", safetensorsBytes("{" + entry("a", "[2]", "[0,8]") + "," + entry("b", "[2]", "[4,12]") + "}", 12),
       "overlap"},
      {"gap", safetensorsBytes("{" + entry("a", "[1]", "[0,4]") + "," + entry("b", "[1]", "[8,12]") + "}", 12), "gap"},
      {"offsets_out_of_range", oneTensor("[2]", "[1000000,1000008]"), ""},
      // A consistent header declaring 16 GiB in a 66-byte file: refused from the sizes alone.
      {"declares_16GiB", oneTensor("[65536,65536]", "[0,17179869184]"), "data section has 8"},
      {"offsets_past_end", oneTensor("[4]", "[0,16]"), ""},
      {"offsets_reversed", oneTensor("[0]", "[8,0]"), ""},
      {"offsets_negative", oneTensor("[2]", "[-8,0]"), ""},
      {"offsets_three", oneTensor("[2]", "[0,4,8]"), ""},
      {"dtype_f8", oneTensor("[8]", "[0,8]", "\"F8_E4M3\""), "F8_E4M3"},
      {"dtype_q4", oneTensor("[16]", "[0,8]", "\"Q4\""), "Q4"},
      {"dtype_not_string", oneTensor("[2]", "[0,8]", "7"), ""},
      {"shape_size_mismatch", oneTensor("[3]", "[0,8]"), "bytes"},
      {"shape_overflow", oneTensor("[4294967296,4294967296,4294967296]", "[0,8]"), ""},
      {"shape_huge_zero", oneTensor("[0,18446744073709551615]", "[0,0]", "\"F32\"", 0), ""},
      // No elements, but contiguous strides beyond int64 (the fuzz_npy finding, in safetensors).
      {"shape_zero_stride_overflow", oneTensor("[0,1099511627776,1099511627776]", "[0,0]", "\"F32\"", 0), "2^63"},
      {"shape_negative", oneTensor("[-2]", "[0,8]"), ""},
      {"shape_float", oneTensor("[2.0]", "[0,8]"), ""},
      {"shape_not_array", oneTensor("2", "[0,8]"), ""},
      {"rank_9", oneTensor("[1,1,1,1,1,1,1,1,2]", "[0,8]"), ""},
      {"missing_field", safetensorsBytes(R"({"w":{"dtype":"F32","shape":[2]}})", 8), ""},
      {"extra_field", safetensorsBytes(R"({"w":{)" + fields + R"(,"x":1}})", 8), ""},
      {"entry_not_object", safetensorsBytes(R"({"w":[1,2,3]})", 8), ""},
      {"trailing_bytes", safetensorsBytes("{" + ok + "}", 9), ""},
      {"metadata_not_strings", safetensorsBytes(R"({"__metadata__":{"epoch":3},)" + ok + "}", 8), "__metadata__"},
      {"metadata_not_object", safetensorsBytes(R"({"__metadata__":"pt",)" + ok + "}", 8), "__metadata__"},
  };
}

TEST(Safetensors, CorruptFilesAreInputErrors) {
  const std::string dir = test::scratchDir("safetensors_test");
  for (const CorruptCase& c : corruptCases()) {
    SCOPED_TRACE(c.name);
    const std::string path = dir + c.name + ".safetensors";
    test::writeBytes(path, c.bytes);
    test::expectInputError([&] { readSafetensors(path); }, path, c.needle);
    test::expectInputError([&] { readCheckpoint(path); }, path);
  }
}

TEST(Safetensors, EveryTruncationOfAValidFileIsAnInputError) {
  const std::string dir = test::scratchDir("safetensors_test");
  const std::string valid = safetensorsBytes(
      R"({"__metadata__":{"a":"b"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
  for (size_t cut = 0; cut < valid.size(); ++cut) {
    const std::string path = dir + "cut_" + std::to_string(cut) + ".safetensors";
    test::writeBytes(path, valid.substr(0, cut));
    test::expectInputError([&] { readSafetensors(path); }, path);
    std::filesystem::remove(path);
  }
}

TEST(Safetensors, MissingFileIsInputError) {
  const std::string path = test::scratchDir("safetensors_test") + "does_not_exist.safetensors";
  test::expectInputError([&] { readSafetensors(path); }, path);
}

}  // namespace
}  // namespace fs::model
