// The admin section: the observe address, the control listener (TCP or Unix socket), its token
// file and the rule that keeps a control listener off the network without a token. Messages are
// asserted whole: operators read them from `remora --validate`.

#include "config/admin_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace remora::config {
namespace {

constexpr const char* kRest = R"(
listeners:
  - name: in
    address: 127.0.0.1:10000
    routes: [{prefix: /, cluster: app}]
clusters:
  - name: app
    endpoints: [127.0.0.1:8080]
)";

ConfigResult<Config> load(const std::string& admin) {
  return loadFromString("admin: " + admin + "\n" + kRest);
}

std::string errorOf(const std::string& admin) {
  ConfigResult<Config> result = load(admin);
  return result.ok() ? "ok" : toLines(result.error());
}

TEST(AdminFieldsTest, DefaultsKeepBothListenersOnLoopback) {
  ConfigResult<Config> result = load("{}");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->admin.address.str(), "127.0.0.1:9901");
  const AdminControl& control = result->admin.control;
  EXPECT_EQ(control.address.str(), "127.0.0.1:9902");
  EXPECT_TRUE(control.unix_path.empty());
  EXPECT_TRUE(control.token_file.empty());
  EXPECT_FALSE(control.allow_insecure);
}

TEST(AdminFieldsTest, TheSingleAddressFormStillMeansTheObserveListener) {
  ConfigResult<Config> result = load("{address: 0.0.0.0:9901}");
  ASSERT_TRUE(result.ok()) << toLines(result.error());
  EXPECT_EQ(result->admin.address.str(), "0.0.0.0:9901");
  EXPECT_EQ(result->admin.control.address.str(), "127.0.0.1:9902");
}

TEST(AdminFieldsTest, ControlFieldsAreRead) {
  ConfigResult<Config> result =
      load("{control: {unix: /run/remora/admin.sock, mode: 0660, token_file: /etc/t}}");
  ASSERT_TRUE(result.ok()) << toLines(result.error());
  EXPECT_EQ(result->admin.control.unix_path, "/run/remora/admin.sock");
  EXPECT_EQ(result->admin.control.mode, 0660u);
  EXPECT_EQ(result->admin.control.token_file, "/etc/t");
  ConfigResult<Config> tcp = load("{control: {address: '[::1]:9902'}}");
  ASSERT_TRUE(tcp.ok()) << toLines(tcp.error());
  EXPECT_EQ(tcp->admin.control.address.str(), "[::1]:9902");
}

TEST(AdminFieldsTest, NonLoopbackControlNeedsATokenOrAnExplicitAllow) {
  EXPECT_EQ(errorOf("{control: {address: 0.0.0.0:9902}}"),
            "admin.control.address: 0.0.0.0:9902: a non-loopback control listener needs "
            "admin.control.token_file (or allow_insecure: true)");
  EXPECT_EQ(errorOf("{control: {address: '[::]:9902'}}"),
            "admin.control.address: [::]:9902: a non-loopback control listener needs "
            "admin.control.token_file (or allow_insecure: true)");
  EXPECT_EQ(errorOf("{control: {address: 10.1.2.3:9902, token_file: /etc/remora/token}}"), "ok");
  EXPECT_EQ(errorOf("{control: {address: 0.0.0.0:9902, allow_insecure: true}}"), "ok");
  EXPECT_EQ(errorOf("{control: {address: 127.0.0.5:9902}}"), "ok");
}

TEST(AdminFieldsTest, BadControlFieldsNameTheirPath) {
  EXPECT_EQ(errorOf("{control: {address: 127.0.0.1:9902, unix: /run/a.sock}}"),
            "admin.control.unix: give admin.control.address or admin.control.unix, not both");
  EXPECT_EQ(errorOf("{control: {unix: run/a.sock}}"),
            "admin.control.unix: expected an absolute socket path, got \"run/a.sock\"");
  EXPECT_EQ(errorOf("{control: {unix: /" + std::string(120, 'a') + "}}"),
            "admin.control.unix: a Unix socket path is limited to 107 bytes, got 121");
  EXPECT_EQ(errorOf("{control: {unix: /run/a.sock, mode: 0800}}"),
            "admin.control.mode: expected an octal file mode such as 0600, got 0800");
  EXPECT_EQ(errorOf("{control: {unix: /run/a.sock, mode: 04777}}"),
            "admin.control.mode: expected an octal file mode such as 0600, got 04777");
  EXPECT_EQ(errorOf("{control: {mode: 0600}}"),
            "admin.control.mode: applies to a Unix socket only: set admin.control.unix too");
  EXPECT_EQ(errorOf("{control: {token_file: ''}}"),
            "admin.control.token_file: expected a file path, got \"\"");
  EXPECT_EQ(errorOf("{control: {allow_insecure: maybe}}"),
            "admin.control.allow_insecure: expected one of true, false, got \"maybe\"");
  EXPECT_EQ(errorOf("{control: {port: 1}}"), "admin.control.port: unknown field");
  EXPECT_EQ(errorOf("{control: 9902}"), "admin.control: expected a map, got 9902");
}

TEST(AdminFieldsTest, ControlMayNotShareAnAddress) {
  EXPECT_EQ(errorOf("{address: 127.0.0.1:9901, control: {address: 127.0.0.1:9901}}"),
            "admin.control.address: 127.0.0.1:9901 conflicts with admin.address 127.0.0.1:9901");
  EXPECT_EQ(errorOf("{control: {address: 127.0.0.1:10000}}"),
            "admin.control.address: 127.0.0.1:10000 conflicts with listeners[0].address "
            "127.0.0.1:10000");
  // A Unix socket conflicts with no TCP address.
  EXPECT_EQ(errorOf("{address: 127.0.0.1:9902, control: {unix: /run/a.sock}}"), "ok");
}

TEST(AdminFieldsTest, EmittedAdminLoadsBackTheSame) {
  for (const char* admin :
       {"{}", "{control: {unix: /run/remora/admin.sock, mode: '0640', token_file: /t}}",
        "{address: 0.0.0.0:9901, control: {address: 0.0.0.0:9902, allow_insecure: true}}"}) {
    SCOPED_TRACE(admin);
    ConfigResult<Config> first = load(admin);
    ASSERT_TRUE(first.ok()) << toLines(first.error());
    ConfigResult<Config> again = loadFromString(toYaml(first.value()));
    ASSERT_TRUE(again.ok()) << toLines(again.error());
    EXPECT_EQ(again->admin, first->admin);
  }
  EXPECT_EQ(formatMode(0600), "0600");
  EXPECT_EQ(formatMode(07), "0007");
}

}  // namespace
}  // namespace remora::config
