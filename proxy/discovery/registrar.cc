#include "discovery/registrar.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace remora::discovery {

Registrar::Registrar(etcd::Client& client, const config::Registration& registration,
                     const std::string& instance)
    : client_(client),
      key_(registration.prefix + registration.service + "/" + instance),
      value_(
          nlohmann::json{{"address", registration.address.str()}, {"instance", instance}}.dump()),
      ttl_s_(std::max<int64_t>(2, (registration.ttl.count() + 999) / 1000)) {
  timer_.reset(evtimer_new(client.base(), &Registrar::onTimer, this));
}

void Registrar::onTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Registrar*>(arg);
  if (self->lease_ == 0) {
    self->grant();
  } else {
    self->keepAlive();
  }
}

void Registrar::schedule(int64_t ms) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  event_add(timer_.get(), &tv);
}

void Registrar::fail(const std::string& why) {
  // Retry quickly: the lease has only its TTL to live.
  const int64_t ms = std::min<int64_t>(backoff_.nextMs(), ttl_s_ * 1000 / 4);
  spdlog::warn("registration {}: {}; retrying in {} ms", key_, why, ms);
  schedule(ms);
}

void Registrar::grant() {
  call_ = client_.leaseGrant(ttl_s_, [this](Result<int64_t> id) {
    if (!id) return fail(id.error());
    lease_ = id.value();
    call_ = client_.put(key_, value_, lease_, [this](Status s) {
      if (!s) {
        lease_ = 0;  // a fresh lease next time; this one expires on its own
        return fail(s.error());
      }
      if (!registered_) spdlog::info("registered {} (lease {}, ttl {} s)", key_, lease_, ttl_s_);
      registered_ = true;
      backoff_.reset();
      schedule(ttl_s_ * 1000 / 3);
    });
  });
}

void Registrar::keepAlive() {
  call_ = client_.leaseKeepAlive(lease_, [this](Result<int64_t> ttl) {
    if (!ttl) return fail(ttl.error());
    if (ttl.value() <= 0) {
      spdlog::warn("registration {}: lease {} expired; registering again", key_, lease_);
      lease_ = 0;
      registered_ = false;
      return grant();
    }
    backoff_.reset();
    schedule(ttl_s_ * 1000 / 3);
  });
}

}  // namespace remora::discovery
