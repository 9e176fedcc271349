// Config errors end to end: the loader's {path, message} list reaches the admin API's JSON (the
// PUT /config answer and /config/history) exactly as the loader made it. A path or message that
// holds ": " or a newline must arrive whole, which no "path: message" text split again can do.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "common/config_push.h"
#include "common/observe.h"
#include "kernel/config_service.h"
#include "unit/admin/admin_loop.h"

namespace remora::admin {
namespace {

using nlohmann::json;

// Seven errors from three stages of the loader: unknown fields (two of them named with ": " and a
// newline), field values (one quoting a value with ": ") and a cross-reference.
const char kBadYaml[] =
    "bogus: 1\n"
    "\"odd: key\": 1\n"
    "\"two\\nlines\": 1\n"
    "workers: -1\n"
    "log_level: \"loud: very\"\n"
    "listeners:\n"
    "  - name: ingress\n"
    "    address: 127.0.0.1:8080\n"
    "    routes: [{ prefix: /, cluster: nope }]\n"
    "clusters:\n"
    "  - name: app\n"
    "    endpoints: [\"127.0.0.1:x\"]\n";

json expectedErrors() {
  return json::array({
      {{"path", "bogus"}, {"message", "unknown field"}},
      {{"path", "odd: key"}, {"message", "unknown field"}},
      {{"path", "two\nlines"}, {"message", "unknown field"}},
      {{"path", "workers"}, {"message", "expected an integer 0..256, got -1"}},
      {{"path", "log_level"},
       {"message",
        "expected one of trace, debug, info, warn, error, critical, off, got \"loud: very\""}},
      {{"path", "clusters[0].endpoints[0]"}, {"message", "expected a port 1..65535, got \"x\""}},
      {{"path", "listeners[0].routes[0].cluster"}, {"message", "unknown cluster \"nope\""}},
  });
}

// A ConfigService behind a real admin server; the applier accepts everything (no workers).
class ConfigErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdminContext context;
    context.config = [this] { return service_.current(); };
    context.config_service = &service_;
    ASSERT_EQ(admin_.start(std::move(context)), "");
  }

  uint16_t port() const { return admin_.port(); }

  prometheus::Registry registry_;
  ConfigService service_{
      [](std::shared_ptr<const config::Config>, uint64_t,
         const std::string&) -> ConfigService::Applier::result_type { return {}; },
      registry_};
  AdminLoop admin_;
};

TEST_F(ConfigErrorsTest, AYamlPushAnswersTheLoadersExactList) {
  const test::HttpResponse r = test::putConfig(port(), kBadYaml);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(test::bodyJson(r)["errors"], expectedErrors()) << r.body;
  const json history = test::bodyJson(test::adminGet(port(), "/config/history"));
  EXPECT_EQ(history["last_rejected"]["errors"], expectedErrors()) << history.dump();
}

TEST_F(ConfigErrorsTest, AJsonPushAnswersTheSameList) {
  const json body = {{"bogus", 1},
                     {"odd: key", 1},
                     {"two\nlines", 1},
                     {"workers", -1},
                     {"log_level", "loud: very"},
                     {"listeners",
                      {{{"name", "ingress"},
                        {"address", "127.0.0.1:8080"},
                        {"routes", {{{"prefix", "/"}, {"cluster", "nope"}}}}}}},
                     {"clusters", {{{"name", "app"}, {"endpoints", {"127.0.0.1:x"}}}}}};
  // nlohmann::json sorts keys; the loader reports fields in document order, so write them in
  // the YAML's order by hand.
  std::string text = "{";
  for (const char* key :
       {"bogus", "odd: key", "two\nlines", "workers", "log_level", "listeners", "clusters"}) {
    if (text.size() > 1) text += ", ";
    text += json(key).dump() + ": " + body[key].dump();
  }
  text += "}";
  const test::HttpResponse r =
      test::putConfig(port(), text, {{"content-type", "application/json"}});
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(test::bodyJson(r)["errors"], expectedErrors()) << r.body;
}

}  // namespace
}  // namespace remora::admin
