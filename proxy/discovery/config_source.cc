#include "discovery/config_source.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace remora::discovery {

EtcdConfigSource::EtcdConfigSource(etcd::Client& client, const config::EtcdSource& source,
                                   SubmitFn submit)
    : client_(client),
      source_(source),
      submit_(std::move(submit)),
      mirror_(client, source.prefix + "config", "",
              [this](const etcd::Mirror::State& state, int64_t) { onChange(state); }) {
  retry_timer_.reset(evtimer_new(client.base(), &EtcdConfigSource::onRetry, this));
}

void EtcdConfigSource::onRetry(evutil_socket_t, short, void* arg) {
  static_cast<EtcdConfigSource*>(arg)->writeStatus();
}

void EtcdConfigSource::onChange(const etcd::Mirror::State& state) {
  auto it = state.find(configKey());
  // A deleted key is no instruction: the running config stays.
  if (it == state.end()) return;
  const int64_t rev = it->second.mod_revision;
  // A re-read after a reconnect sees the same revision again: nothing new to apply.
  if (rev == seen_revision_) return;
  seen_revision_ = rev;
  const std::string source = "etcd:" + configKey() + "@" + std::to_string(rev);
  spdlog::info("config from {} received", source);
  Outcome out = submit_(it->second.value, source);
  nlohmann::json status = {
      {"instance", source_.instance}, {"revision", std::to_string(rev)}, {"version", out.version}};
  if (out.ok) {
    applied_revision_ = rev;
    status["state"] = "ACK";
  } else {
    status["state"] = "NACK";
    nlohmann::json errors = nlohmann::json::array();
    for (const FieldError& e : out.errors) errors.push_back(e.str());
    status["errors"] = std::move(errors);
    spdlog::error("config from {} refused, version {} stays in service: {}", source, out.version,
                  toLines(out.errors));
  }
  status["applied_revision"] = std::to_string(applied_revision_);
  status_ = status.dump();
  status_dirty_ = true;
  backoff_.reset();
  writeStatus();
}

void EtcdConfigSource::writeStatus() {
  if (!status_dirty_) return;
  const std::string written = status_;
  put_ = client_.put(statusKey(), written, 0, [this, written](Status s) {
    if (s) {
      if (status_ == written) status_dirty_ = false;
      return;
    }
    const int64_t ms = backoff_.nextMs();
    spdlog::warn("etcd: cannot write {}: {}; retrying in {} ms", statusKey(), s.error(), ms);
    timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
    event_add(retry_timer_.get(), &tv);
  });
}

}  // namespace remora::discovery
