// The feature-visualisation objective's terms as text (feature_visualization.h's parseVisTerms
// and parseVisObjective): TAP:C, channel:TAP:C, neuron:TAP:C or logit:C, each optionally *W.
#include "analysis/features/feature_visualization.h"

#include "model/errors.h"

#include <cmath>
#include <exception>
#include <string>
#include <vector>

namespace fs::analysis {
namespace {
using fs::model::InputError;

int parseTermInt(const std::string& text, const std::string& term) {
  size_t used = 0;
  long v = -1;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
  }
  if (text.empty() || used != text.size() || v < 0 || v > (1 << 20))
    throw InputError("term '" + term + "': '" + text + "' is not a channel or class index (a non-negative integer)");
  return int(v);
}

double parseTermWeight(const std::string& text, const std::string& term) {
  size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (text.empty() || used != text.size() || !std::isfinite(v))
    throw InputError("term '" + term + "': weight '" + text + "' is not a finite number");
  return v;
}

VisTerm parseTerm(const std::string& term) {
  if (term.empty()) throw InputError("empty term (terms are comma-separated: TAP:C*W,neuron:TAP:C*W,logit:C*W)");
  VisTerm t;
  std::string body = term;
  if (const size_t star = term.rfind('*'); star != std::string::npos) {
    t.weight = parseTermWeight(term.substr(star + 1), term);
    body = term.substr(0, star);
  }
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t colon = body.find(':', start);
    parts.push_back(body.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() == 2 && parts[0] == "logit") {
    t.kind = VisObjective::Logit;
  } else if (parts.size() == 2) {
    t.tap = parts[0];
  } else if (parts.size() == 3 && (parts[0] == "channel" || parts[0] == "neuron")) {
    t.kind = parts[0] == "neuron" ? VisObjective::Neuron : VisObjective::Channel;
    t.tap = parts[1];
  } else {
    throw InputError("term '" + term + "': expected TAP:C, channel:TAP:C, neuron:TAP:C or logit:C, each optionally *W");
  }
  if (t.kind != VisObjective::Logit && t.tap.empty()) throw InputError("term '" + term + "': the tap name is empty");
  t.channel = parseTermInt(parts.back(), term);
  return t;
}

}  // namespace

VisObjective parseVisObjective(const std::string& name) {
  if (name == "channel") return VisObjective::Channel;
  if (name == "neuron") return VisObjective::Neuron;
  if (name == "logit") return VisObjective::Logit;
  if (name == "sum") return VisObjective::Sum;
  throw InputError("unknown objective '" + name + "' (valid: channel, neuron, logit, sum)");
}

std::vector<VisTerm> parseVisTerms(const std::string& text) {
  std::vector<VisTerm> terms;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    terms.push_back(parseTerm(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return terms;
}

}  // namespace fs::analysis
