#include "app/cli_args.h"

#include "model/errors.h"

#include <cstdlib>
#include <sstream>

namespace fs::app {
using fs::model::UsageError;

namespace {

// 0.1 and 86400, not std::to_string's 0.100000 and 86400.000000 (six significant digits, as %g).
std::string shortNumber(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string Args::value(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int Args::intValue(const std::string& name, int fallback, int lo, int hi) const {
  if (!values_.count(name)) return fallback;
  const std::string s = value(name);
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < lo || v > hi)
    throw UsageError(name + " expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + s + "'");
  return static_cast<int>(v);
}

double Args::doubleValue(const std::string& name, double fallback, double lo, double hi) const {
  if (!values_.count(name)) return fallback;
  const std::string s = value(name);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
    throw UsageError(name + " expects a number in [" + shortNumber(lo) + ", " + shortNumber(hi) + "], got '" + s + "'");
  return v;
}

Args parseArgs(int argc, char** argv, int first, const std::string& command, OptionSpec spec) {
  spec.values.insert({"--threads", "--seed"});
  spec.flags.insert("--help");
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    std::string inlineValue;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        inlineValue = arg.substr(eq + 1), arg = arg.substr(0, eq), hasInline = true;
      }
      if (spec.flags.count(arg) && !hasInline) {
        a.flags_.insert(arg);
      } else if (spec.values.count(arg)) {
        if (!hasInline && i + 1 >= argc) throw UsageError(command + ": option " + arg + " needs a value");
        a.values_[arg].push_back(hasInline ? inlineValue : argv[++i]);
      } else {
        throw UsageError(command + ": unknown option '" + arg + "' (see featurescope-cli " + command + " --help)");
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  if (a.flags_.count("--help")) return a;
  const int n = static_cast<int>(a.positional.size());
  if (n < spec.minPositional || (spec.maxPositional >= 0 && n > spec.maxPositional))
    throw UsageError(command + ": wrong number of arguments (see featurescope-cli " + command + " --help)");
  return a;
}

}  // namespace fs::app
