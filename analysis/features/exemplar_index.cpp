// The exemplar index file (analysis/features/exemplars.h): one JSON object; each exemplar is the
// array [image, score, cellY, cellX, x0, y0, x1, y1] so that large indexes stay compact.
#include "analysis/features/exemplars.h"

#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fs::analysis {
namespace {
using fs::model::InputError;
using nlohmann::json;

constexpr const char* kFormat = "featurescope-exemplars";
constexpr int kVersion = 1;

std::string shardText(const ShardSpec& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

// One exemplar, [image, score, cellY, cellX, box x4], its image index checked against the count.
Exemplar exemplarFromJson(const json& a, const std::string& path, const std::string& tap, int64_t imageCount) {
  if (!a.is_array() || a.size() != 8) throw InputError(path + ": an exemplar of tap '" + tap + "' is not 8 numbers");
  Exemplar e;
  e.image = a[0].get<int64_t>(), e.score = float(a[1].get<double>());
  e.cellY = a[2].get<int>(), e.cellX = a[3].get<int>();
  for (int i = 0; i < 4; ++i) e.box[i] = a[size_t(4 + i)].get<int>();
  if (e.image < 0 || e.image >= imageCount) throw InputError(path + ": image index out of range in tap '" + tap + "'");
  return e;
}

}  // namespace

std::string exemplarIndexText(const ExemplarIndex& x) {
  json names = json::object();
  for (const auto& [i, name] : x.imageNames) names[std::to_string(i)] = name;
  json channels = json::object();
  for (const auto& [tap, list] : x.channels) {
    json perTap = json::array();
    for (const auto& top : list) {
      json entries = json::array();
      for (const auto& e : top)
        entries.push_back({e.image, double(e.score), e.cellY, e.cellX, e.box[0], e.box[1], e.box[2], e.box[3]});
      perTap.push_back(std::move(entries));
    }
    channels[tap] = std::move(perTap);
  }
  const json j = {{"format", kFormat},
                  {"version", kVersion},
                  {"model", x.model},
                  {"weights_sha256", x.weightsSha256},
                  {"dataset", x.dataset},
                  {"dataset_sha256", x.datasetSha256},
                  {"image_count", x.imageCount},
                  {"taps", x.taps},
                  {"k", x.k},
                  {"score", exemplarScoreName(x.score)},
                  {"shard", shardText(x.shard)},
                  {"input_size", {x.inputHeight, x.inputWidth}},
                  {"image_names", names},
                  {"channels", channels}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

ExemplarIndex parseExemplarIndex(const std::string& text, const std::string& path) {
  try {
    const json j = json::parse(text);
    if (!j.is_object() || j.value("format", "") != kFormat)
      throw InputError(path + ": not a featurescope exemplar index (no \"format\": \"" + kFormat + "\")");
    if (j.at("version").get<int>() != kVersion)
      throw InputError(path + ": exemplar index version " + j.at("version").dump() + " (this build reads " +
                       std::to_string(kVersion) + ")");
    ExemplarIndex x;
    x.model = j.at("model").get<std::string>();
    x.weightsSha256 = j.at("weights_sha256").get<std::string>();
    x.dataset = j.at("dataset").get<std::string>();
    x.datasetSha256 = j.at("dataset_sha256").get<std::string>();
    x.imageCount = j.at("image_count").get<int64_t>();
    x.taps = j.at("taps").get<std::vector<std::string>>();
    x.k = j.at("k").get<int>();
    x.score = parseExemplarScore(j.at("score").get<std::string>());
    x.shard = parseShard(j.at("shard").get<std::string>());
    x.inputHeight = j.at("input_size").at(0).get<int>(), x.inputWidth = j.at("input_size").at(1).get<int>();
    for (const auto& [key, name] : j.at("image_names").items()) x.imageNames[std::stoll(key)] = name.get<std::string>();
    for (const auto& tap : x.taps) {
      auto& list = x.channels[tap];
      for (const auto& top : j.at("channels").at(tap)) {
        list.emplace_back();
        for (const auto& a : top) list.back().push_back(exemplarFromJson(a, path, tap, x.imageCount));
      }
    }
    return x;
  } catch (const json::exception& e) {
    throw InputError(path + ": malformed exemplar index (" + e.what() + ")");
  } catch (const fs::model::UsageError& e) {
    throw InputError(path + ": " + e.what());
  } catch (const std::invalid_argument&) {
    throw InputError(path + ": malformed exemplar index (an image key is not a number)");
  } catch (const std::out_of_range&) {
    throw InputError(path + ": malformed exemplar index (a number is out of range)");
  }
}

ExemplarIndex readExemplarIndex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the exemplar index");
  std::ostringstream s;
  s << in.rdbuf();
  return parseExemplarIndex(s.str(), path);
}

}  // namespace fs::analysis
