// pluginConfigError: a plugin's one line of text about its config block becomes one FieldError
// with the exact path, and the --validate wording stays the plugin's own.

#include <gtest/gtest.h>

#include "plugin/filter_chain.h"

namespace remora::plugin {
namespace {

TEST(PluginConfigErrorTest, TheFieldThePluginNamesExtendsThePath) {
  const FieldError e =
      pluginConfigError("listeners[0].filters[1].config", "rules[0].rate: must be > 0");
  EXPECT_EQ(e.str(), "listeners[0].filters[1].config.rules[0].rate: must be > 0");
  EXPECT_EQ(e.asWritten(), "listeners[0].filters[1].config: rules[0].rate: must be > 0");
  EXPECT_EQ(pluginConfigError("listeners[0].filters[1].config", "[2]: expected a string").path,
            "listeners[0].filters[1].config[2]");
}

TEST(PluginConfigErrorTest, TextNamingNoFieldIsTheBlocksMessage) {
  const FieldError e = pluginConfigError("listeners[0].filters[2].config", "expected an object");
  EXPECT_EQ(e.str(), "listeners[0].filters[2].config: expected an object");
  EXPECT_EQ(e.asWritten(), e.str());
  // Words before the first ": " that are no field path stay in the message.
  EXPECT_EQ(pluginConfigError("listeners[0].filters[2].config", "bad value: 7").message,
            "bad value: 7");
  // A canary build's block is a description, not a path to extend.
  EXPECT_EQ(
      pluginConfigError("listeners[0].filters[0].config (canary build)", "rate: must be > 0").str(),
      "listeners[0].filters[0].config (canary build): rate: must be > 0");
}

TEST(PluginConfigErrorTest, TheRestOfTheTextIsTheMessageWhole) {
  const FieldError e = pluginConfigError("listeners[0].filters[0].config",
                                         "routes[1].match.regex: invalid regex \"(\": missing )\n"
                                         "second: line");
  EXPECT_EQ(e.path, "listeners[0].filters[0].config.routes[1].match.regex");
  EXPECT_EQ(e.message, "invalid regex \"(\": missing )\nsecond: line");
}

}  // namespace
}  // namespace remora::plugin
