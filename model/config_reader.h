#pragma once
// Reading a JSON model config safely: ConfigReader refuses missing, mistyped and out-of-range
// fields with an InputError that names the config and the field, before anything is allocated.
// Families read their own fields with it (FamilyTraits::readConfig, model/family.h), and count
// their parameters with the saturating helpers in ParamCount.
#include "model/errors.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace fs::model {

constexpr int64_t kMaxDim = 65536;              // any width, height or channel count
constexpr int64_t kMaxDepth = 1000;             // blocks per stage or model
constexpr int64_t kMaxParams = 2'000'000'000;   // the parameter count a config may imply

struct ConfigReader {
  const nlohmann::json& j;
  const std::string& what;  // the config's source, for errors

  [[noreturn]] void fail(const std::string& why) const { throw InputError(what + ": " + why); }
  bool has(const char* key) const { return j.contains(key); }

  int64_t integer(const char* key, int64_t lo, int64_t hi, const nlohmann::json& v) const {
    if (!v.is_number_integer()) fail(std::string("'") + key + "' must be an integer");
    const auto x = v.get<int64_t>();
    if (x < lo || x > hi)
      fail(std::string("'") + key + "' = " + std::to_string(x) + " is outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    return x;
  }
  int integer(const char* key, int64_t lo, int64_t hi, int fallback) const {
    return j.contains(key) ? int(integer(key, lo, hi, j.at(key))) : fallback;
  }
  int required(const char* key, int64_t lo, int64_t hi) const {
    if (!j.contains(key)) fail(std::string("missing field '") + key + "'");
    return int(integer(key, lo, hi, j.at(key)));
  }
  double number(const nlohmann::json& v, const char* key, double lo, double hi) const {
    if (!v.is_number()) fail(std::string("'") + key + "' must be a number");
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi))
      fail(std::string("'") + key + "' is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  double number(const char* key, double lo, double hi, double fallback) const {
    return j.contains(key) ? number(j.at(key), key, lo, hi) : fallback;
  }
  std::vector<int> intList(const char* key, int64_t lo, int64_t hi) const {
    if (!j.contains(key) || !j.at(key).is_array() || j.at(key).empty() || j.at(key).size() > 16)
      fail(std::string("'") + key + "' must be a non-empty list (at most 16 entries)");
    std::vector<int> out;
    for (const auto& v : j.at(key)) out.push_back(int(integer(key, lo, hi, v)));
    return out;
  }
  std::vector<double> numList(const char* key, double lo, double hi) const {
    if (!j.contains(key) || !j.at(key).is_array()) fail(std::string("'") + key + "' must be a list");
    std::vector<double> out;
    for (const auto& v : j.at(key)) out.push_back(number(v, key, lo, hi));
    return out;
  }
  // The MLP hidden width a ratio implies (as the modules compute it) obeys kMaxDim and may not
  // round down to zero.
  void hiddenWidth(const char* key, int64_t dim, double ratio) const {
    const auto hidden = static_cast<int64_t>(dim * ratio);
    if (hidden < 1 || hidden > kMaxDim)
      fail(std::string("'") + key + "' gives an MLP hidden width of " + std::to_string(hidden) + " (allowed 1 to " +
           std::to_string(kMaxDim) + ")");
  }
};

// Parameter arithmetic in 64 bits that saturates instead of overflowing, so that absurd configs
// are refused by the kMaxParams check rather than wrapping around.
namespace param_count {
using I = int64_t;
constexpr I kBig = std::numeric_limits<I>::max() / 4;
inline I mul(I a, I b) { return (a != 0 && b > kBig / a) ? kBig : a * b; }
inline I add(I a, I b) { return a + b > kBig ? kBig : a + b; }
inline I linear(I in, I out) { return add(mul(in, out), out); }  // weight + bias
inline I mlp(I d, I h) { return add(linear(d, h), linear(h, d)); }
inline I bn(I c) { return 2 * c; }
}  // namespace param_count

}  // namespace fs::model
