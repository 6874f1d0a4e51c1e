#pragma once
// Error types shared by every layer. InputError = the user handed us a bad file or value
// (exit code 3 in the CLI, a dialog in the GUI); UsageError = bad command line (exit code 2).
#include <stdexcept>
#include <string>

namespace fs::model {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace fs::model
