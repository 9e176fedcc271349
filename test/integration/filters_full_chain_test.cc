// Every real filter in one chain under a bounded load: access_log, auth (JWT), router,
// circuit_breaker, headers and rate_limit, with 10 keep-alive connections sending 2,000
// requests with valid tokens across two workers. Nothing may fail, and every request must be
// logged with its principal.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/filter_env.h"
#include "common/harness.h"
#include "common/jwt_test_signer.h"

namespace remora::test {
namespace {

using json = nlohmann::json;

constexpr char kSecret[] = "full-chain-hs256-secret-0123456789abcdef";

TEST(FullChainTest, TwoThousandRequestsOverTenConnectionsWithoutAFailure) {
  PluginDir plugins;
  for (const char* f : {"access_log", "auth", "router", "circuit_breaker", "headers", "rate_limit"})
    plugins.addFilter(f);
  DemoUpstream app("app");
  std::string log = plugins.file("access.log");

  json auth = {{"jwt",
                {{"issuers", {"https://issuer.test"}},
                 {"audiences", {"api"}},
                 {"keys", {{{"secret", kSecret}}}}}}};
  json router = {{"routes", {{{"name", "api"}, {"match", {{"prefix", "/"}}}, {"cluster", "app"}}}}};
  json breaker = {{"clusters",
                   {{"app",
                     {{"max_active_requests", 100},
                      {"breaker", {{"consecutive_failures", 5}}},
                      {"outlier", {{"consecutive_5xx", 5}}}}}}}};
  json headers = {{"request", {{"set", {{"x-via-chain", "1"}}}}},
                  {"response", {{"set", {{"x-chain", "full"}}}}}};
  json rate_limit = {{"rules", {{{"prefix", "/"}, {"rate", 100000}, {"burst", 100000}}}}};
  FilterProxy proxy(plugins,
                    {{"access_log", {{"path", log}, {"format", "json"}}},
                     {"auth", auth},
                     {"router", router},
                     {"circuit_breaker", breaker},
                     {"headers", headers},
                     {"rate_limit", rate_limit}},
                    {{"app", {app.address()}, ""}}, /*workers=*/2);

  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  constexpr int kConnections = 10;
  constexpr int kPerConnection = 200;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kConnections);
  std::vector<std::thread> threads;
  auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < kConnections; ++c) {
    threads.emplace_back([&, c] {
      json claims = {{"sub", "user-" + std::to_string(c)},
                     {"iss", "https://issuer.test"},
                     {"aud", "api"},
                     {"exp", now + 600}};
      std::string token = "Bearer " + signHs256(R"({"alg":"HS256"})", claims.dump(), kSecret);
      HttpClient client(proxy.port());
      for (int i = 0; i < kPerConnection; ++i) {
        std::string path = i % 4 == 0 ? "/headers" : "/bytes/" + std::to_string(100 + i);
        HttpResponse r = client.request("GET", path, {{"authorization", token}});
        bool good = r.ok() && r.status == 200 && r.header("x-chain") == "full" &&
                    (i % 4 != 0 || r.body.find("x-via-chain: 1") != std::string::npos);
        if (!good) {
          failures[c] = "connection " + std::to_string(c) + " request " + std::to_string(i) +
                        ": status " + std::to_string(r.status) + " " + r.error + " " + r.body;
          return;
        }
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto took = std::chrono::steady_clock::now() - t0;
  for (const std::string& f : failures) EXPECT_EQ(f, "");
  EXPECT_EQ(ok.load(), kConnections * kPerConnection);
  std::cout << "[          ] " << ok.load() << " requests in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";

  // Every request is logged once, with the principal its token named.
  std::vector<std::string> lines;
  EXPECT_TRUE(eventually([&] {
    lines = readLines(log);
    return lines.size() >= size_t(kConnections * kPerConnection);
  })) << lines.size();
  EXPECT_EQ(lines.size(), size_t(kConnections * kPerConnection));
  std::map<std::string, int> per_principal;
  for (const std::string& line : lines) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j["status"], 200) << line;
    EXPECT_EQ(j["chain"], "access_log,auth,router,circuit_breaker,headers,rate_limit");
    ++per_principal[j["principal"].is_string() ? j["principal"].get<std::string>() : "(none)"];
  }
  EXPECT_EQ(per_principal.size(), size_t(kConnections));
  for (const auto& [principal, n] : per_principal) EXPECT_EQ(n, kPerConnection) << principal;

  std::string metrics = proxy.metrics();
  EXPECT_EQ(findMetric(metrics, "remora_filter_errors_total").value_or(0), 0) << metrics;
  EXPECT_EQ(
      findMetric(metrics, "remora_filter_circuit_breaker_active_requests", {{"cluster", "app"}}),
      0);
  EXPECT_EQ(findMetric(metrics, "remora_filter_auth_allowed_total", {{"method", "jwt"}}),
            kConnections * kPerConnection);
  EXPECT_TRUE(proxy.remora().process().running());
}

}  // namespace
}  // namespace remora::test
