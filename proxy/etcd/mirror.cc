#include "etcd/mirror.h"

#include <spdlog/spdlog.h>

namespace remora::etcd {

Mirror::Mirror(Client& client, std::string key, std::string range_end, OnChange on_change)
    : client_(client),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      on_change_(std::move(on_change)) {
  retry_timer_.reset(evtimer_new(client_.base(), &Mirror::onRetry, this));
}

void Mirror::start() {
  readRange();
}

void Mirror::onRetry(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Mirror*>(arg);
  if (self->need_range_) {
    self->readRange();
  } else {
    self->startWatch();
  }
}

void Mirror::retryLater(const std::string& why, bool reread) {
  watching_ = false;
  need_range_ |= reread;
  watch_.cancel();
  const int64_t ms = backoff_.nextMs();
  spdlog::warn("etcd {} ({}): {}; retrying in {} ms", key_, client_.endpoint().str(), why, ms);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  event_add(retry_timer_.get(), &tv);
}

void Mirror::readRange() {
  call_ = client_.range(key_, range_end_, [this](Result<Client::RangeResult> r) {
    if (!r) return retryLater(r.error(), true);
    state_.clear();
    for (KeyValue& kv : r->kvs)
      state_[std::move(kv.key)] = Entry{std::move(kv.value), kv.mod_revision};
    last_revision_ = r->revision;
    need_range_ = false;
    on_change_(state_, last_revision_);
    startWatch();
  });
}

void Mirror::startWatch() {
  nlohmann::json create = {{"key", base64Encode(key_)},
                           {"start_revision", std::to_string(last_revision_ + 1)},
                           {"progress_notify", true}};
  if (!range_end_.empty()) create["range_end"] = base64Encode(range_end_);
  watch_ = client_.watch(
      create, [this](const nlohmann::json& line) { onLine(line); },
      [this](const std::string& why) { retryLater(why, false); });
}

void Mirror::onLine(const nlohmann::json& line) {
  if (line.contains("error")) {
    const nlohmann::json& e = line["error"];
    return retryLater("watch error: " + e.value("message", e.dump()), false);
  }
  const nlohmann::json result = line.value("result", nlohmann::json::object());
  if (jsonInt(result, "compact_revision") > 0) {
    // Our next revision was compacted away: the events are gone, so read the range again —
    // at once, etcd itself is fine.
    spdlog::warn("etcd {}: revision {} compacted; reading it again", key_, last_revision_ + 1);
    watching_ = false;
    need_range_ = true;
    watch_.cancel();
    return readRange();
  }
  if (result.value("canceled", false)) return retryLater("watch canceled by etcd", false);
  if (result.value("created", false)) {
    if (!watching_) spdlog::info("etcd: watching {} from revision {}", key_, last_revision_ + 1);
    watching_ = true;
    backoff_.reset();
  }
  const nlohmann::json& events = result.contains("events") ? result["events"] : nlohmann::json();
  if (!events.is_array() || events.empty()) return;
  for (const nlohmann::json& ev : events) {
    const nlohmann::json& kv = ev.contains("kv") ? ev["kv"] : nlohmann::json::object();
    auto key = base64Decode(kv.value("key", ""));
    if (!key) continue;
    const int64_t rev = jsonInt(kv, "mod_revision");
    // PUT events carry no "type" (the proto3 default is not sent).
    if (ev.value("type", "PUT") == "DELETE") {
      state_.erase(key.value());
    } else {
      auto value = base64Decode(kv.value("value", ""));
      if (!value) continue;
      state_[key.value()] = Entry{std::move(value.value()), rev};
    }
    last_revision_ = std::max(last_revision_, rev);
  }
  on_change_(state_, last_revision_);
}

}  // namespace remora::etcd
