// A listener's path_normalization and upgrades: defaults, what they read as, the exact
// rejections, and the YAML round trip.

#include "config/request_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace remora::config {
namespace {

std::string withListener(const std::string& extra) {
  return "listeners:\n"
         "  - name: in\n"
         "    address: 127.0.0.1:10000\n" +
         extra +
         "    routes: [{prefix: /, cluster: app}]\n"
         "clusters:\n"
         "  - name: app\n"
         "    endpoints: [127.0.0.1:8080]\n";
}

std::string errorOf(const std::string& yaml) {
  ConfigResult<Config> result = loadFromString(yaml);
  return result.ok() ? "ok" : toLines(result.error());
}

TEST(RequestFieldsTest, SafeDefaults) {
  ConfigResult<Config> c = loadFromString(withListener(""));
  ASSERT_TRUE(c.ok()) << c.error();
  const Listener& l = c->listeners[0];
  EXPECT_FALSE(l.path_normalization.merge_slashes);
  EXPECT_EQ(l.path_normalization.encoded_slashes, EncodedSlashes::kKeep);
  EXPECT_EQ(l.upgrades, std::vector<std::string>{"websocket"});
}

TEST(RequestFieldsTest, ReadsAndRoundTrips) {
  ConfigResult<Config> c = loadFromString(
      withListener("    path_normalization: {merge_slashes: true, encoded_slashes: reject}\n"
                   "    upgrades: [WebSocket, foo]\n"));
  ASSERT_TRUE(c.ok()) << c.error();
  const Listener& l = c->listeners[0];
  EXPECT_TRUE(l.path_normalization.merge_slashes);
  EXPECT_EQ(l.path_normalization.encoded_slashes, EncodedSlashes::kReject);
  EXPECT_EQ(l.upgrades, (std::vector<std::string>{"websocket", "foo"}));
  ConfigResult<Config> again = loadFromString(toYaml(*c));
  ASSERT_TRUE(again.ok()) << again.error() << "\n" << toYaml(*c);
  EXPECT_EQ(again->listeners[0], l);
  ConfigResult<Config> none = loadFromString(withListener("    upgrades: []\n"));
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_TRUE(none->listeners[0].upgrades.empty());
}

TEST(RequestFieldsTest, NamesTheFieldInEachRejection) {
  EXPECT_EQ(errorOf(withListener("    path_normalization: {encoded_slashes: drop}\n")),
            "listeners[0].path_normalization.encoded_slashes: expected one of keep, reject, "
            "decode, got \"drop\"");
  EXPECT_EQ(errorOf(withListener("    path_normalization: {merge_slashes: 2}\n")),
            "listeners[0].path_normalization.merge_slashes: expected true or false, got 2");
  EXPECT_EQ(errorOf(withListener("    path_normalization: {merge: true}\n")),
            "listeners[0].path_normalization.merge: unknown field");
  EXPECT_EQ(errorOf(withListener("    upgrades: [websocket, h2c]\n")),
            "listeners[0].upgrades[1]: h2c cannot be forwarded as an upgrade");
  EXPECT_EQ(errorOf(withListener("    upgrades: [\"a b\"]\n")),
            "listeners[0].upgrades[0]: expected an upgrade protocol token, e.g. websocket, got "
            "\"a b\"");
  EXPECT_EQ(errorOf(withListener("    upgrades: websocket\n")),
            "listeners[0].upgrades: expected a list of upgrade protocols, got \"websocket\"");
}

}  // namespace
}  // namespace remora::config
