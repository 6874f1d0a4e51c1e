// The environment's switches (environment.h).
#include "model/environment.h"

#include "model/errors.h"

#include <cstdlib>

namespace fs::model {

std::string environmentChoice(const char* name, std::initializer_list<std::string_view> choices) {
  const char* v = std::getenv(name);
  const std::string value = v ? v : "";
  if (value.empty()) return value;
  std::string list;
  for (std::string_view c : choices) {
    if (value == c) return value;
    list += (list.empty() ? "'" : ", '") + std::string(c) + "'";
  }
  throw InputError(std::string(name) + ": '" + value + "' is not one of " + list);
}

}  // namespace fs::model
