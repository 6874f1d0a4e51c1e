// The environment's switches (model/environment.h): unset or empty gives "", a listed value
// itself, anything else an InputError that names the variable, the value and the choices.
#include "model/environment.h"
#include "model/errors.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using fs::model::environmentChoice;

TEST(Environment, ChoicesAreCheckedNotGuessed) {
  const char* name = "FEATURESCOPE_TEST_SWITCH";
  ::unsetenv(name);
  EXPECT_EQ(environmentChoice(name, {"on", "off"}), "");
  ::setenv(name, "", 1);
  EXPECT_EQ(environmentChoice(name, {"on", "off"}), "");
  ::setenv(name, "off", 1);
  EXPECT_EQ(environmentChoice(name, {"on", "off"}), "off");
  for (const char* bad : {"Off", "of", "off ", "on,off"}) {
    ::setenv(name, bad, 1);
    try {
      environmentChoice(name, {"on", "off"});
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const fs::model::InputError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("FEATURESCOPE_TEST_SWITCH: '") + bad + "' is not one of 'on', 'off'");
    }
  }
  ::unsetenv(name);
}

}  // namespace
