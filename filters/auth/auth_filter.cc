#include "auth_filter.h"

#include <chrono>
#include <vector>

#include "ext_authz.h"
#include "path_match.h"

namespace remora::auth {
namespace {

// The metadata key the access logger reads.
constexpr std::string_view kPrincipalKey = "principal";

// RequestView over the SDK stream: header views live until the hook returns, which is as long
// as the decision code holds them.
class StreamRequest : public RequestView {
 public:
  explicit StreamRequest(const sdk::Stream& stream) : stream_(stream) {}
  std::optional<std::string_view> header(std::string_view name) const override {
    return stream_.requestHeader(name);
  }
  std::string_view method() const override { return stream_.method(); }
  std::string_view target() const override { return stream_.path(); }
  std::string_view authority() const override { return stream_.authority(); }
  std::optional<std::string_view> peerIdentity() const override {
    return stream_.metadata("remora.peer.identity");
  }

 private:
  const sdk::Stream& stream_;
};

}  // namespace

std::unique_ptr<AuthFilterConfig> AuthFilterConfig::create(const nlohmann::json& json,
                                                           sdk::ConfigContext& ctx,
                                                           std::string& error) {
  auto parsed = parseAuthConfig(json);
  if (!parsed) {
    error = parsed.error();
    return nullptr;
  }
  auto config = std::make_unique<AuthFilterConfig>();
  config->auth_ = std::move(*parsed);
  if (config->auth_->jwt && config->auth_->jwt->cache_size > 0) {
    size_t capacity = config->auth_->jwt->cache_size;
    config->jwt_cache_ = std::make_unique<sdk::PerWorker<JwtCache>>(
        [capacity] { return std::make_unique<JwtCache>(capacity); });
  }
  auto allowed = ctx.counterFamily("auth_allowed_total",
                                   "Requests the auth filter let through, by method", "method");
  auto denied = ctx.counterFamily("auth_denied_total",
                                  "Requests the auth filter refused, by reason", "reason");
  for (size_t i = 0; i < kAllowReasonCount; ++i) {
    config->allowed_[i] = ctx.series(allowed, allowReasonName(static_cast<AllowReason>(i)));
  }
  for (size_t i = 0; i < kDenyReasonCount; ++i) {
    config->denied_[i] = ctx.series(denied, denyReasonName(static_cast<DenyReason>(i)));
  }
  return config;
}

sdk::Status AuthFilter::onRequestHeaders(bool /*end_stream*/) {
  const AuthConfig& auth = config_.auth();
  // Headers the auth service vouches for must come from it alone: a client's own x-user-id
  // never reaches the upstream, whatever the route requires.
  if (auth.ext_authz) {
    for (const std::string& name : auth.ext_authz->upstream_headers) {
      stream().removeRequestHeader(name);
    }
  }
  StreamRequest request(stream());
  const Requirement& requirement =
      auth.match(normalizeForMatch(stream().path()), stream().method());
  int64_t now_s = static_cast<int64_t>(sdk::nowUnixUs() / 1'000'000);
  Decision decision =
      authenticate(auth, requirement, request, now_s, &pending_, config_.jwtCache());
  if (decision.kind != Decision::Kind::kCallout) return apply(decision);

  const ExtAuthzSettings& ext = *auth.ext_authz;
  HeaderPairs owned = extAuthzRequestHeaders(ext, request);
  std::vector<sdk::Header> headers;
  headers.reserve(owned.size());
  for (const auto& [name, value] : owned) headers.push_back(sdk::Header{name, value});
  bool started = httpCall(ext.cluster, ext.method, ext.path, headers, {},
                          std::chrono::milliseconds(ext.timeout_ms),
                          [this](const sdk::CalloutResponse& r) { onExtAuthzAnswer(r); });
  if (!started) return apply(completeExtAuthz(auth, pending_, CalloutResponse{}));
  return Status::kStop;
}

void AuthFilter::onExtAuthzAnswer(const sdk::CalloutResponse& response) {
  CalloutResponse answer;
  answer.status = response.status();
  answer.body = response.body();
  answer.headers.reserve(response.headerCount());
  for (size_t i = 0; i < response.headerCount(); ++i) {
    sdk::Header h = response.headerAt(i);
    answer.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  Decision decision = completeExtAuthz(config_.auth(), pending_, answer);
  // After kStop: an allow resumes the stream; a deny's local reply ends it.
  if (apply(decision) == Status::kContinue) stream().resume();
}

sdk::Status AuthFilter::apply(const Decision& decision) {
  if (decision.kind == Decision::Kind::kAllow) {
    config_.allowed(decision.allowed_by).inc(stream());
    if (!decision.principal.empty()) stream().setMetadata(kPrincipalKey, decision.principal);
    for (const auto& [name, value] : decision.upstream_headers) {
      stream().setRequestHeader(name, value);
    }
    return Status::kContinue;
  }
  config_.denied(decision.reason).inc(stream());
  std::vector<sdk::Header> headers;
  headers.reserve(decision.reply_headers.size());
  for (const auto& [name, value] : decision.reply_headers) {
    headers.push_back(sdk::Header{name, value});
  }
  stream().sendLocalReply(decision.status, decision.body, headers);
  return Status::kReplied;
}

}  // namespace remora::auth

REMORA_FILTER_PLUGIN("auth", "1.0.0", 100, remora::auth::AuthFilterConfig, remora::auth::AuthFilter)
