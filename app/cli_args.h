#pragma once
// A small command-line parser for featurescope-cli: positional arguments, options with values
// (repeatable) and flags, checked against what each subcommand accepts (UsageError otherwise).
#include "analysis/string_list.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace fs::app {

struct OptionSpec {
  std::set<std::string> values;  // "--image", "--top", ...
  std::set<std::string> flags;   // "--json", ...
  int minPositional = 0;
  int maxPositional = 0;         // -1: unlimited
};

class Args {
 public:
  std::vector<std::string> positional;
  bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
  std::string value(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> all(const std::string& name) const;
  int intValue(const std::string& name, int fallback, int lo, int hi) const;
  double doubleValue(const std::string& name, double fallback, double lo, double hi) const;

  std::map<std::string, std::vector<std::string>> values_;
  std::set<std::string> flags_;
};

// Parses argv[first..argc). Adds the common options --threads, --seed, --help.
Args parseArgs(int argc, char** argv, int first, const std::string& command, OptionSpec spec);

using fs::analysis::splitList;  // comma-separated option values

}  // namespace fs::app
