#pragma once
// The project's switches in the environment (FEATURESCOPE_*): a value must be one of the switch's
// choices; a misspelt one is refused, never read as the default.
#include <initializer_list>
#include <string>
#include <string_view>

namespace fs::model {

// The value of the environment variable `name`: "" when it is unset or empty, else one of
// `choices`; any other value throws InputError naming the variable, the value and the choices.
std::string environmentChoice(const char* name, std::initializer_list<std::string_view> choices);

}  // namespace fs::model
