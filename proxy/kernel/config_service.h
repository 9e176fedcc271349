#pragma once
// ConfigService: the one way a config change enters the proxy. Start-up, SIGHUP, the admin
// push, the watched file, rollbacks (and later etcd) all call submit(); each change is parsed,
// validated, compiled and published to every worker before the call returns, so changes are
// serialized by construction (main thread only, one at a time). The service keeps the applied
// version, the last rejected attempt with its errors, and a short history to roll back to.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/field_error.h"
#include "config/config.h"

namespace prometheus {
class Registry;
class Gauge;
class Histogram;
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace remora {

// kDetect: JSON when the text parses as JSON, YAML otherwise.
enum class ConfigFormat { kYaml, kJson, kDetect };

struct ApplyOutcome {
  bool ok = false;
  // The version now in service: the new one when ok, the unchanged one otherwise.
  uint64_t version = 0;
  // Every reason, as the stage that found it reported it; a syntax error's path is
  // "config:LINE:COLUMN".
  FieldErrors errors;
  // If-Match named a version that is no longer in service (HTTP 412); nothing was attempted.
  bool stale = false;
  std::string source;
  std::chrono::microseconds duration{0};  // submit() to "installed on every worker"
};

struct AppliedConfig {
  uint64_t version = 0;
  std::chrono::system_clock::time_point applied_at;
  std::string source;
  std::shared_ptr<const config::Config> config;
};

struct RejectedAttempt {
  std::chrono::system_clock::time_point at;
  std::string source;
  FieldErrors errors;
};

class ConfigService {
 public:
  // Compiles `config` into snapshot `version` and installs it on every worker, or returns every
  // error leaving the running snapshot in service. Main thread.
  using Applier = std::function<ConfigStatus(std::shared_ptr<const config::Config> config,
                                             uint64_t version, const std::string& source)>;
  using Observer = std::function<void(const ApplyOutcome&)>;

  static constexpr size_t kDefaultHistory = 16;

  // `registry` receives remora_config_version, remora_config_applies_total{source,result} and
  // remora_config_apply_duration_seconds; it must outlive the service.
  ConfigService(Applier applier, prometheus::Registry& registry,
                size_t history_size = kDefaultHistory);
  ~ConfigService();
  ConfigService(const ConfigService&) = delete;
  ConfigService& operator=(const ConfigService&) = delete;

  // Main thread. Parses `text` and applies it; JSON is parsed once, straight into the loader's
  // document. `source` names the origin in logs, metrics and
  // history (a small fixed set: startup, sighup, admin, file, rollback, etcd). With `if_match`,
  // the change is refused as stale unless that version is the one in service.
  ApplyOutcome submit(std::string_view text, ConfigFormat format, const std::string& source,
                      std::optional<uint64_t> if_match = std::nullopt);
  // The same for an already parsed config (start-up, rollback).
  ApplyOutcome submit(std::shared_ptr<const config::Config> config, const std::string& source,
                      std::optional<uint64_t> if_match = std::nullopt);
  // Re-applies the config of history version `to` (default: the one before the current) as a
  // new version. Refused with an error when that version is not in the history.
  ApplyOutcome rollback(std::optional<uint64_t> to = std::nullopt);

  // Called after every outcome, applied or rejected (not for stale If-Match refusals).
  void observe(Observer observer) { observers_.push_back(std::move(observer)); }

  uint64_t version() const { return history_.empty() ? 0 : history_.back().version; }
  std::shared_ptr<const config::Config> current() const {
    return history_.empty() ? nullptr : history_.back().config;
  }
  // Oldest first; the last entry is the config in service.
  const std::deque<AppliedConfig>& history() const { return history_; }
  const std::optional<RejectedAttempt>& lastRejected() const { return last_rejected_; }

 private:
  ApplyOutcome finish(ApplyOutcome outcome, std::shared_ptr<const config::Config> config,
                      std::chrono::steady_clock::time_point started);
  void record(const ApplyOutcome& outcome);

  Applier applier_;
  size_t history_size_;
  std::deque<AppliedConfig> history_;
  std::optional<RejectedAttempt> last_rejected_;
  std::vector<Observer> observers_;
  uint64_t next_version_ = 1;
  bool busy_ = false;  // an observer or applier that submits again is refused, not nested

  prometheus::Registry& registry_;
  prometheus::Gauge* version_gauge_ = nullptr;
  prometheus::Family<prometheus::Counter>* applies_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
};

}  // namespace remora
