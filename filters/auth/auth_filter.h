#pragma once
// The auth filter as a Remora plugin: the SDK's Config and per-stream Filter around the
// host-independent decision code (authenticator.h). See README.md for the config reference.

#include <remora/sdk/filter.h>
#include <remora/sdk/per_worker.h>

#include <array>
#include <memory>
#include <string>

#include "auth_config.h"
#include "authenticator.h"
#include "decision.h"
#include "jwt_cache.h"

namespace remora::auth {

// One per config push (main thread); immutable and shared by every worker afterwards.
class AuthFilterConfig {
 public:
  static std::unique_ptr<AuthFilterConfig> create(const nlohmann::json& json,
                                                  sdk::ConfigContext& ctx, std::string& error);

  const AuthConfig& auth() const { return *auth_; }
  const sdk::Counter& allowed(AllowReason r) const { return allowed_[static_cast<size_t>(r)]; }
  const sdk::Counter& denied(DenyReason r) const { return denied_[static_cast<size_t>(r)]; }
  // This worker's verified-token cache, or nullptr when JWT is off or jwt.cache_size is 0.
  JwtCache* jwtCache() const { return jwt_cache_ ? &jwt_cache_->local() : nullptr; }

 private:
  AuthConfigPtr auth_;
  // Owned by this config object, so a config push (new keys, issuers, audiences) never answers
  // from tokens an older config verified: the new object starts with empty caches.
  std::unique_ptr<sdk::PerWorker<JwtCache>> jwt_cache_;
  // remora_filter_auth_allowed_total{method} and remora_filter_auth_denied_total{reason}, one
  // handle per label value, resolved here so the hot path is an array index.
  std::array<sdk::Counter, kAllowReasonCount> allowed_;
  std::array<sdk::Counter, kDenyReasonCount> denied_;
};

// One per stream (worker thread). Decides on the request headers; when the external service is
// asked, pauses the stream (kStop) until its answer resumes or answers it.
class AuthFilter : public sdk::Filter {
 public:
  using Status = sdk::Status;

  AuthFilter(const AuthFilterConfig& config, sdk::Stream stream)
      : sdk::Filter(stream), config_(config) {}

  Status onRequestHeaders(bool end_stream) override;

 private:
  // Applies an allow (principal, upstream headers) or a deny (local reply); counts it. Returns
  // the hook status it amounts to.
  Status apply(const Decision& decision);
  void onExtAuthzAnswer(const sdk::CalloutResponse& response);

  const AuthFilterConfig& config_;
  CalloutState pending_;
};

}  // namespace remora::auth
