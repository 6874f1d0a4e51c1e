#pragma once
// featurescope-cli subcommands. Each returns the process exit code and throws UsageError (2) or
// InputError (3) for bad invocations and bad input; cli_main.cpp maps them.
#include "app/cli_args.h"

#include <string>
#include <vector>

namespace fs::app {

struct Command {
  std::string name;
  std::string usage;  // full --help text; the first line is the synopsis
  OptionSpec options;
  int (*run)(const Args&);
};

// All subcommands, in registration order. Each cli_<name>.cpp registers its own commands with a
// file-scope `const CommandRegistrar` so new commands need no edits elsewhere.
const std::vector<Command>& commands();

int runModels(const Args& a);
int runInfo(const Args& a);
int runConvert(const Args& a);
int runPredict(const Args& a);
int runFeatures(const Args& a);
int runDemo(const Args& a);
int runBench(const Args& a);
int runEvaluateDataset(const Args& a);

struct CommandRegistrar {
  explicit CommandRegistrar(Command c);
};

}  // namespace fs::app
