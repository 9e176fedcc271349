// rate_limit: local token buckets per path prefix, optionally per client address or header value.
//
// Config (see README.md):
//   {"rules": [{"prefix": "/api", "rate": 100, "per": "1s", "burst": 200,
//               "key": "none" | "client_address" | "header:x-api-key", "max_keys": 10000}],
//    "response_headers": false}
//
// Buckets live per worker (PerWorker), so the hot path takes no lock. The price: each worker
// enforces the whole rate on its own, so the proxy-wide limit is rate x workers (the ABI does not
// tell a plugin how many workers there are).

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>
#include <remora/sdk/per_worker.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "token_bucket.h"

namespace remora::filters::rate_limit {

namespace sdk = remora::sdk;
using sdk::Status;

struct Rule {
  enum class Key { kNone, kClientAddress, kHeader };

  std::string name;  // metric label value
  std::string prefix;
  double rate = 0;  // tokens per `per`
  double per_seconds = 1;
  BucketPolicy policy{};
  Key key = Key::kNone;
  std::string header;  // Key::kHeader
  size_t max_keys = 10000;
  sdk::Counter allowed, limited, evicted;
};

// One worker's buckets: per rule, a single bucket or a keyed table.
struct WorkerBuckets {
  std::vector<std::optional<TokenBucket>> single;
  std::vector<BucketTable> keyed;
};

namespace {

std::string formatNumber(double v) {
  if (v == std::floor(v) && v < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  return s;
}

bool parseRule(const nlohmann::json& j, const std::string& path, Rule& r, std::string& error) {
  if (!sdk::checkObject(j, path, {"name", "prefix", "rate", "per", "burst", "key", "max_keys"},
                        error)) {
    return false;
  }
  auto field = [&](const char* k) { return sdk::fieldPath(path, k); };
  if (!j.contains("prefix") || !j["prefix"].is_string() ||
      j["prefix"].get<std::string>().substr(0, 1) != "/") {
    error = field("prefix") + ": must be a path prefix starting with '/', got " +
            (j.contains("prefix") ? sdk::describeJson(j["prefix"]) : "nothing");
    return false;
  }
  r.prefix = j["prefix"].get<std::string>();
  r.name = r.prefix;
  if (j.contains("name")) {
    if (!j["name"].is_string() || j["name"].get<std::string>().empty()) {
      error = field("name") + ": must be a non-empty string, got " + sdk::describeJson(j["name"]);
      return false;
    }
    r.name = j["name"].get<std::string>();
  }
  if (!j.contains("rate") || !j["rate"].is_number() || !(j["rate"].get<double>() > 0)) {
    error = field("rate") + ": must be a number > 0, got " +
            (j.contains("rate") ? sdk::describeJson(j["rate"]) : "nothing");
    return false;
  }
  r.rate = j["rate"].get<double>();
  if (j.contains("per")) {
    std::optional<std::chrono::microseconds> per =
        sdk::durationField(j["per"], field("per"), error);
    if (!per) return false;
    if (per->count() <= 0) {
      error = field("per") + ": must be > 0, got " + sdk::describeJson(j["per"]);
      return false;
    }
    r.per_seconds = static_cast<double>(per->count()) / 1e6;
  }
  double burst = std::max(r.rate, 1.0);
  if (j.contains("burst")) {
    if (!j["burst"].is_number() || j["burst"].get<double>() < 1) {
      error = field("burst") + ": must be a number >= 1, got " + sdk::describeJson(j["burst"]);
      return false;
    }
    burst = j["burst"].get<double>();
  }
  r.policy = BucketPolicy{r.rate / (r.per_seconds * 1e6), burst};
  if (j.contains("key")) {
    std::string key = j["key"].is_string() ? j["key"].get<std::string>() : "";
    if (key == "none") {
      r.key = Rule::Key::kNone;
    } else if (key == "client_address") {
      r.key = Rule::Key::kClientAddress;
    } else if (key.starts_with("header:") && key.size() > 7) {
      r.key = Rule::Key::kHeader;
      r.header = key.substr(7);
    } else {
      error = field("key") + ": must be \"none\", \"client_address\" or \"header:<name>\", got " +
              sdk::describeJson(j["key"]);
      return false;
    }
  }
  if (j.contains("max_keys")) {
    if (!j["max_keys"].is_number_integer() || j["max_keys"].get<int64_t>() < 1) {
      error =
          field("max_keys") + ": must be an integer >= 1, got " + sdk::describeJson(j["max_keys"]);
      return false;
    }
    r.max_keys = static_cast<size_t>(j["max_keys"].get<int64_t>());
  }
  return true;
}

}  // namespace

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext& ctx,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"rules", "response_headers"}, error)) return nullptr;
    if (!json.contains("rules") || !json["rules"].is_array() || json["rules"].empty()) {
      error = "rules: must be a non-empty list of rules, got " +
              (json.contains("rules") ? sdk::describeJson(json["rules"]) : "nothing");
      return nullptr;
    }
    auto c = std::make_unique<Config>();
    if (json.contains("response_headers")) {
      if (!json["response_headers"].is_boolean()) {
        error = "response_headers: must be true or false, got " +
                sdk::describeJson(json["response_headers"]);
        return nullptr;
      }
      c->response_headers = json["response_headers"].get<bool>();
    }
    auto allowed =
        ctx.counterFamily("rate_limit_allowed_total", "Requests within the limit", "rule");
    auto limited = ctx.counterFamily("rate_limit_limited_total", "Requests answered 429", "rule");
    auto evicted = ctx.counterFamily("rate_limit_evictions_total",
                                     "Keyed buckets evicted to stay within max_keys", "rule");
    const nlohmann::json& rules = json["rules"];
    for (size_t i = 0; i < rules.size(); ++i) {
      Rule r;
      std::string path = sdk::indexPath("rules", i);
      if (!parseRule(rules[i], path, r, error)) return nullptr;
      for (const Rule& other : c->rules) {
        if (other.name == r.name) {
          error = path + ".name: duplicate rule name '" + r.name + "' (set distinct names)";
          return nullptr;
        }
      }
      r.allowed = ctx.series(allowed, r.name);
      r.limited = ctx.series(limited, r.name);
      r.evicted = ctx.series(evicted, r.name);
      c->rules.push_back(std::move(r));
    }
    return c;
  }

  Config()
      : workers([this] {
          auto w = std::make_unique<WorkerBuckets>();
          w->single.resize(rules.size());
          for (const Rule& r : rules) w->keyed.emplace_back(r.max_keys);
          return w;
        }) {}

  // First rule whose prefix the request target starts with; nullptr if none.
  const Rule* match(std::string_view path) const {
    for (const Rule& r : rules) {
      if (path.starts_with(r.prefix)) return &r;
    }
    return nullptr;
  }

  // State hand-off (worker thread): this worker's buckets, by rule name, so a reload or a new
  // build keeps every client's budget instead of refilling all buckets at once.
  std::string exportState() const;
  void importState(std::string_view state) const;

  std::vector<Rule> rules;
  bool response_headers = false;
  sdk::PerWorker<WorkerBuckets> workers;
};

std::string Config::exportState() const {
  const WorkerBuckets& w = workers.local();
  nlohmann::json out = {{"format", "rate_limit.buckets.v1"}, {"rules", nlohmann::json::object()}};
  for (size_t i = 0; i < rules.size(); ++i) {
    nlohmann::json rule = nlohmann::json::object();
    if (w.single[i]) rule["single"] = {w.single[i]->tokens(), w.single[i]->lastUs()};
    nlohmann::json keyed = nlohmann::json::array();
    w.keyed[i].forEach([&](const std::string& key, const TokenBucket& b) {
      keyed.push_back({key, b.tokens(), b.lastUs()});
    });
    if (!keyed.empty()) rule["keyed"] = std::move(keyed);
    out["rules"][rules[i].name] = std::move(rule);
  }
  return out.dump();
}

void Config::importState(std::string_view state) const {
  nlohmann::json in = nlohmann::json::parse(state, nullptr, false);
  if (!in.is_object() || in.value("format", "") != "rate_limit.buckets.v1") return;
  const nlohmann::json& by_name = in["rules"];
  if (!by_name.is_object()) return;
  WorkerBuckets& w = workers.local();
  for (size_t i = 0; i < rules.size(); ++i) {
    // A rule is matched by name; one whose key kind changed starts afresh.
    auto it = by_name.find(rules[i].name);
    if (it == by_name.end()) continue;
    const BucketPolicy& p = rules[i].policy;
    if (rules[i].key == Rule::Key::kNone && it->contains("single")) {
      const nlohmann::json& b = (*it)["single"];
      w.single[i].emplace(p, b.at(0).get<double>(), b.at(1).get<uint64_t>());
    } else if (rules[i].key != Rule::Key::kNone && it->contains("keyed")) {
      for (const nlohmann::json& b : (*it)["keyed"])
        w.keyed[i].put(b.at(0).get<std::string>(),
                       TokenBucket(p, b.at(1).get<double>(), b.at(2).get<uint64_t>()));
    }
  }
}

class Filter final : public sdk::Filter {
 public:
  explicit Filter(const Config& config) : config_(config) {}

  Status onRequestHeaders(bool) override {
    const sdk::Stream& s = stream();
    const Rule* rule = config_.match(s.path());
    if (rule == nullptr) return Status::kContinue;
    size_t index = static_cast<size_t>(rule - config_.rules.data());
    uint64_t now = sdk::nowMonotonicUs();
    TokenBucket& bucket = bucketFor(*rule, index, now);
    bool ok = bucket.tryTake(rule->policy, now);
    if (ok) {
      rule->allowed.inc(s);
      // The headers are only rendered when they will be sent: this is every request's path.
      if (config_.response_headers) describe(*rule, bucket);
      return Status::kContinue;
    }
    rule->limited.inc(s);
    describe(*rule, bucket);
    std::string retry_after =
        std::to_string(std::max<uint64_t>(1, bucket.secondsUntilToken(rule->policy)));
    s.sendLocalReply(429, "rate limit exceeded\n",
                     {{"content-type", "text/plain"},
                      {"retry-after", retry_after},
                      {"x-ratelimit-limit", limit_},
                      {"x-ratelimit-remaining", remaining_},
                      {"x-ratelimit-reset", reset_},
                      // To a gRPC client: RESOURCE_EXHAUSTED, not the UNAVAILABLE 429 maps to.
                      sdk::grpcStatusHeader(sdk::GrpcStatus::kResourceExhausted)});
    return Status::kReplied;
  }

  Status onResponseHeaders(bool) override {
    if (!limit_.empty()) {
      stream().setResponseHeader("x-ratelimit-limit", limit_);
      stream().setResponseHeader("x-ratelimit-remaining", remaining_);
      stream().setResponseHeader("x-ratelimit-reset", reset_);
    }
    return Status::kContinue;
  }

 private:
  // The x-ratelimit-* values after this request's decision.
  void describe(const Rule& rule, const TokenBucket& bucket) {
    limit_ = formatNumber(rule.rate);
    remaining_ = std::to_string(bucket.remaining());
    reset_ = std::to_string(bucket.secondsUntilFull(rule.policy));
  }

  TokenBucket& bucketFor(const Rule& rule, size_t index, uint64_t now) {
    WorkerBuckets& w = config_.workers.local();
    if (rule.key == Rule::Key::kNone) {
      std::optional<TokenBucket>& b = w.single[index];
      if (!b) b.emplace(rule.policy, now);
      return *b;
    }
    // Requests without the key header share one bucket (key "").
    std::string_view key = rule.key == Rule::Key::kClientAddress
                               ? stream().clientAddress()
                               : stream().requestHeader(rule.header).value_or("");
    bool evicted = false;
    TokenBucket& b = w.keyed[index].get(key, rule.policy, now, &evicted);
    if (evicted) rule.evicted.inc(stream());
    return b;
  }

  const Config& config_;
  std::string limit_, remaining_, reset_;  // empty unless headers are to be sent
};

}  // namespace remora::filters::rate_limit

REMORA_FILTER_PLUGIN("rate_limit", "1.0.0", 200, remora::filters::rate_limit::Config,
                     remora::filters::rate_limit::Filter)
