#pragma once
// featurescope-cli subcommands. Each returns the process exit code and throws UsageError (2) or
// InputError (3) for bad invocations and bad input; cli_main.cpp maps them.
#include "app/cli_args.h"

#include <string>
#include <vector>

namespace fs::app {

struct Command {
  std::string name;
  std::string usage;  // full --help text
  OptionSpec options;
  int (*run)(const Args&);
};

const std::vector<Command>& commands();

int runModels(const Args& a);
int runInfo(const Args& a);
int runPredict(const Args& a);
int runFeatures(const Args& a);
int runConvert(const Args& a);
int runBench(const Args& a);
int runDemo(const Args& a);

}  // namespace fs::app
