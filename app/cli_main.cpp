// featurescope-cli: headless entry point. Parses the subcommand, configures threads once, and maps
// errors to exit codes: 0 ok, 2 usage, 3 bad input, 1 internal error.
#include "analysis/versions.h"
#include "app/cli_commands.h"
#include "app/process_setup.h"
#include "model/errors.h"
#include "model/threads.h"

#include <QtGlobal>
#include <c10/util/Exception.h>

#include <cstring>
#include <iostream>

namespace {

void printUsage(std::ostream& os) {
  os << "featurescope-cli " << FS_VERSION << " - feature maps and predictions of vision models\n\n"
            << "usage: featurescope-cli COMMAND [options]   (featurescope-cli COMMAND --help)\n\ncommands:\n";
  for (const auto& c : fs::app::commands()) os << "  " << c.usage.substr(0, c.usage.find('\n')) << "\n";
  os << "\ncommon: --threads N, --seed N; MODEL = registered id or path to a JSON config\n"
            << "exit codes: 0 ok, 2 usage error, 3 bad input\n";
}

int dispatch(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    printUsage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "featurescope-cli " << FS_VERSION << " (" << fs::analysis::libraryVersions() << ", Qt "
              << qVersion() << ")\n";
    return 0;
  }
  for (const auto& c : fs::app::commands()) {
    if (c.name != argv[1]) continue;
    const fs::app::Args args = fs::app::parseArgs(argc, argv, 2, c.name, c.options);
    if (args.has("--help")) {
      std::cout << "usage: featurescope-cli " << c.usage << "\n";
      return 0;
    }
    fs::model::configureThreads(args.intValue("--threads", 0, 1, 256));
    return c.run(args);
  }
  throw fs::model::UsageError(std::string("unknown command '") + argv[1] + "' (see featurescope-cli --help)");
}
}  // namespace

int main(int argc, char** argv) {
  fs::app::ensureOpenMpWaitPolicy(argv);
  fs::app::keepFreedMemoryForReuse();
  try {
    return dispatch(argc, argv);
  } catch (const fs::model::UsageError& e) {
    std::cerr << "featurescope-cli: " << e.what() << "\n";
    return 2;
  } catch (const fs::model::InputError& e) {
    std::cerr << "featurescope-cli: error: " << e.what() << "\n";
    return 3;
  } catch (const c10::Error& e) {
    std::cerr << "featurescope-cli: error: " << e.what_without_backtrace() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "featurescope-cli: internal error: " << e.what() << "\n";
    return 1;
  }
}
