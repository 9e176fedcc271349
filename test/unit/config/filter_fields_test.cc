// The chain entry fields of the plugin runtime (path, canary, on_error, quarantine and the
// listener's filter_defaults): what they read as, their exact rejections, and the YAML round trip.

#include "config/filter_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"

namespace remora::config {
namespace {

std::string withEntries(const std::string& entries, const std::string& listener_extra = "") {
  return "listeners:\n"
         "  - name: in\n"
         "    address: 127.0.0.1:10000\n" +
         listener_extra + "    filters:\n" + entries +
         "      - name: router\n"
         "clusters:\n"
         "  - name: app\n"
         "    endpoints: [127.0.0.1:8080]\n";
}

std::string errorOf(const std::string& yaml) {
  ConfigResult<Config> result = loadFromString(yaml);
  return result.ok() ? "ok" : toLines(result.error());
}

TEST(FilterFieldsTest, ReadsEveryRuntimeField) {
  ConfigResult<Config> c = loadFromString(withEntries(
      "      - name: hello\n"
      "        path: /opt/hello-2.so\n"
      "        canary: {path: /opt/hello-3.so, percent: 7, header: X-Canary, value: \"1\"}\n"
      "        on_error: fail_open\n"
      "        quarantine: {after_errors: 5, hook_budget_ms: 20}\n",
      "    filter_defaults: {on_error: fail_open, quarantine: {after_errors: 9}}\n"));
  ASSERT_TRUE(c.ok()) << c.error();
  const Listener& l = c->listeners[0];
  EXPECT_EQ(l.on_error, OnError::kFailOpen);
  EXPECT_EQ(l.quarantine.after_errors, 9u);
  const FilterRef& f = l.filters[0];
  EXPECT_EQ(f.path, "/opt/hello-2.so");
  ASSERT_TRUE(f.canary.has_value());
  EXPECT_EQ(f.canary->path, "/opt/hello-3.so");
  EXPECT_EQ(f.canary->percent, 7u);
  EXPECT_EQ(f.canary->header, "x-canary");  // header names compare lower-case
  EXPECT_EQ(f.canary->value, "1");
  EXPECT_EQ(f.on_error, OnError::kFailOpen);
  ASSERT_TRUE(f.quarantine.has_value());
  EXPECT_EQ(f.quarantine->after_errors, 5u);
  EXPECT_EQ(f.quarantine->hook_budget_ms, 20u);
  // The router entry sets none of them: it takes the listener's defaults when compiled.
  EXPECT_FALSE(l.filters[1].on_error.has_value());
  EXPECT_FALSE(l.filters[1].quarantine.has_value());

  // And the whole thing survives toYaml.
  ConfigResult<Config> again = loadFromString(toYaml(*c));
  ASSERT_TRUE(again.ok()) << again.error() << "\n" << toYaml(*c);
  EXPECT_EQ(*again, *c) << toYaml(*c);
}

TEST(FilterFieldsTest, RejectionsNameTheField) {
  EXPECT_EQ(errorOf(withEntries("      - name: hello\n        path: hello.so\n")),
            "listeners[0].filters[0].path: expected an absolute path to a plugin .so, got "
            "\"hello.so\"");
  EXPECT_EQ(errorOf(withEntries("      - name: hello\n        canary: {path: /x.so}\n")),
            "listeners[0].filters[0].canary: sends no traffic: set `percent` and/or `header`");
  EXPECT_NE(errorOf(withEntries("      - name: hello\n        canary: {path: /x.so, percent: "
                                "101}\n"))
                .find("listeners[0].filters[0].canary.percent"),
            std::string::npos);
  EXPECT_EQ(errorOf(withEntries("      - name: hello\n        canary: {percent: 5}\n"))
                .find("listeners[0].filters[0].canary.path"),
            0u);
  EXPECT_EQ(
      errorOf(withEntries("      - name: hello\n        canary: {path: /x.so, value: v, percent: "
                          "1}\n")),
      "listeners[0].filters[0].canary.value: needs `header`");
  EXPECT_EQ(errorOf(withEntries("      - name: hello\n        on_error: ignore\n")),
            "listeners[0].filters[0].on_error: expected one of fail_closed, fail_open, got "
            "\"ignore\"");
  EXPECT_NE(errorOf(withEntries("      - name: hello\n        quarantine: {after: 3}\n"))
                .find("listeners[0].filters[0].quarantine.after"),
            std::string::npos);
  EXPECT_NE(errorOf(withEntries("", "    filter_defaults: {on_error: maybe}\n"))
                .find("listeners[0].filter_defaults.on_error"),
            std::string::npos);
}

}  // namespace
}  // namespace remora::config
