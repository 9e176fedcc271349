#include "kernel/config_service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "config/json_document.h"
#include "config/loader.h"

namespace remora {
namespace {

// The loader names syntax errors after this origin: "config:3:7".
constexpr char kOrigin[] = "config";

ConfigResult<config::Config> load(std::string_view text, ConfigFormat format) {
  if (format != ConfigFormat::kYaml) {
    // JSON is YAML's flow style: its document goes to the same loader and gets the same field
    // paths, while JSON's own syntax errors (and refusal of YAML-only forms) come from JSON.
    auto document = config::parseJsonDocument(text, kOrigin);
    if (document) return config::loadFromDocument(document.value(), kOrigin);
    if (format == ConfigFormat::kJson) return document.error();
  }
  return config::loadFromString(std::string(text), kOrigin);
}

// For the log: one error per line, indented under the summary.
std::string logLines(const FieldErrors& errors) {
  std::string out;
  for (const FieldError& e : errors) out += "\n  " + e.str();
  return out;
}

}  // namespace

ConfigService::ConfigService(Applier applier, prometheus::Registry& registry, size_t history_size)
    : applier_(std::move(applier)),
      history_size_(std::max<size_t>(history_size, 2)),
      registry_(registry) {
  version_gauge_ = &prometheus::BuildGauge()
                        .Name("remora_config_version")
                        .Help("Version of the config in service")
                        .Register(registry_)
                        .Add({});
  applies_ = &prometheus::BuildCounter()
                  .Name("remora_config_applies_total")
                  .Help("Config changes by source and result (applied, rejected)")
                  .Register(registry_);
  // Push-to-applied: from the text arriving to the snapshot installed on every worker.
  duration_ = &prometheus::BuildHistogram()
                   .Name("remora_config_apply_duration_seconds")
                   .Help(
                       "Time from a config change arriving to its snapshot serving on every "
                       "worker")
                   .Register(registry_)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
}

ConfigService::~ConfigService() = default;

ApplyOutcome ConfigService::submit(std::string_view text, ConfigFormat format,
                                   const std::string& source, std::optional<uint64_t> if_match) {
  const auto started = std::chrono::steady_clock::now();
  ApplyOutcome outcome;
  outcome.source = source;
  outcome.version = version();
  if (if_match && *if_match != version()) {
    outcome.stale = true;
    return outcome;
  }
  auto loaded = load(text, format);
  if (!loaded) {
    outcome.errors = loaded.error();
    return finish(std::move(outcome), nullptr, started);
  }
  return finish(std::move(outcome),
                std::make_shared<const config::Config>(std::move(loaded.value())), started);
}

ApplyOutcome ConfigService::submit(std::shared_ptr<const config::Config> config,
                                   const std::string& source, std::optional<uint64_t> if_match) {
  ApplyOutcome outcome;
  outcome.source = source;
  outcome.version = version();
  if (if_match && *if_match != version()) {
    outcome.stale = true;
    return outcome;
  }
  return finish(std::move(outcome), std::move(config), std::chrono::steady_clock::now());
}

ApplyOutcome ConfigService::rollback(std::optional<uint64_t> to) {
  std::shared_ptr<const config::Config> target;
  if (!to && history_.size() >= 2) to = history_[history_.size() - 2].version;
  for (const AppliedConfig& entry : history_)
    if (to && entry.version == *to) target = entry.config;
  if (!target) {
    ApplyOutcome outcome;
    outcome.source = "rollback";
    outcome.version = version();
    outcome.errors.push_back(
        {"version", to ? "version " + std::to_string(*to) + " is not in the history"
                       : "no previous version to roll back to"});
    return finish(std::move(outcome), nullptr, std::chrono::steady_clock::now());
  }
  return submit(std::move(target), "rollback");
}

ApplyOutcome ConfigService::finish(ApplyOutcome outcome,
                                   std::shared_ptr<const config::Config> config,
                                   std::chrono::steady_clock::time_point started) {
  if (config && busy_) {
    outcome.errors.push_back({"", "another config change is being applied"});
    config.reset();
  }
  if (config) {
    busy_ = true;
    const uint64_t version = next_version_;
    ConfigStatus applied = applier_(config, version, outcome.source);
    busy_ = false;
    if (applied) {
      ++next_version_;
      outcome.ok = true;
      outcome.version = version;
      history_.push_back({version, std::chrono::system_clock::now(), outcome.source, config});
      while (history_.size() > history_size_) history_.pop_front();
    } else {
      outcome.errors = applied.error();
    }
  }
  outcome.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  record(outcome);
  return outcome;
}

void ConfigService::record(const ApplyOutcome& outcome) {
  applies_->Add({{"source", outcome.source}, {"result", outcome.ok ? "applied" : "rejected"}})
      .Increment();
  if (outcome.ok) {
    version_gauge_->Set(static_cast<double>(outcome.version));
    duration_->Observe(std::chrono::duration<double>(outcome.duration).count());
    spdlog::info("config version {} applied (source: {}) in {} us", outcome.version, outcome.source,
                 outcome.duration.count());
  } else {
    last_rejected_ =
        RejectedAttempt{std::chrono::system_clock::now(), outcome.source, outcome.errors};
    spdlog::error("config change from {} refused, version {} stays in service:{}", outcome.source,
                  outcome.version, logLines(outcome.errors));
  }
  for (const Observer& observer : observers_) observer(outcome);
}

}  // namespace remora
