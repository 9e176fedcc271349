#include "authenticator.h"

#include <algorithm>

#include "replies.h"

namespace remora::auth {
namespace {

// The outcome of checking one synchronous method.
struct Attempt {
  enum class State : uint8_t { kAbsent, kInvalid, kValid };
  Method method = Method::kJwt;
  State state = State::kAbsent;
  std::string principal;
  std::vector<std::string> scopes;
  DenyReason reason = DenyReason::kMissingCredentials;
  std::string_view description;
};

Attempt tryJwt(const JwtSettings& jwt, const RequestView& request, int64_t now_unix_s,
               JwtCache* cache) {
  Attempt a;
  a.method = Method::kJwt;
  auto token = extractCredential(jwt.source, request);
  if (!token) return a;
  if (cache != nullptr) {
    if (const JwtCache::Entry* hit = cache->lookup(*token, now_unix_s)) {
      a.state = Attempt::State::kValid;
      a.principal = hit->subject;
      a.scopes = hit->scopes;
      return a;
    }
  }
  JwtVerdict v = jwt.verifier->verify(*token, now_unix_s);
  if (!v.ok()) {
    a.state = Attempt::State::kInvalid;
    a.reason = denyReasonFor(v.failure);
    a.description = v.description;
    return a;
  }
  if (cache != nullptr) cache->insert(*token, v, jwt.verifier->rules());
  a.state = Attempt::State::kValid;
  a.principal = std::move(v.subject);
  a.scopes = std::move(v.scopes);
  return a;
}

Attempt tryApiKey(const ApiKeySettings& keys, const RequestView& request) {
  Attempt a;
  a.method = Method::kApiKey;
  auto presented = extractCredential(keys.source, request);
  if (!presented) return a;
  auto name = keys.store.lookup(*presented);
  if (!name) {
    a.state = Attempt::State::kInvalid;
    a.reason = DenyReason::kInvalidApiKey;
    a.description = "unknown API key";
    return a;
  }
  a.state = Attempt::State::kValid;
  a.principal = std::string(*name);
  return a;
}

Attempt tryMtls(const RequestView& request) {
  Attempt a;
  a.method = Method::kMtls;
  if (auto identity = request.peerIdentity()) {
    a.state = Attempt::State::kValid;
    a.principal = std::string(*identity);
  }
  return a;
}

AllowReason allowReasonFor(Method m) {
  switch (m) {
    case Method::kJwt:
      return AllowReason::kJwt;
    case Method::kApiKey:
      return AllowReason::kApiKey;
    case Method::kMtls:
      return AllowReason::kMtls;
    case Method::kExtAuthz:
      break;
  }
  return AllowReason::kExtAuthz;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

Decision authorize(const AuthConfig& config, const Requirement& req, AllowReason by,
                   std::string principal, const std::vector<std::string>& scopes) {
  const auto& allowed = req.principals;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), principal) == allowed.end()) {
    std::string c = by == AllowReason::kJwt ? challenge(config, Method::kJwt, "insufficient_scope",
                                                        "principal not allowed on this route")
                                            : "";
    return denyWith(403, DenyReason::kPrincipalNotAllowed, "forbidden",
                    "principal not allowed on this route", {c});
  }
  for (const std::string& s : req.scopes) {
    if (std::find(scopes.begin(), scopes.end(), s) == scopes.end()) {
      return denyWith(403, DenyReason::kInsufficientScope, "insufficient_scope",
                      "token lacks a required scope",
                      {challenge(config, Method::kJwt, "insufficient_scope",
                                 "token lacks a required scope", joined(req.scopes))});
    }
  }
  Decision d;
  d.kind = Decision::Kind::kAllow;
  d.allowed_by = by;
  d.principal = std::move(principal);
  return d;
}

namespace {

Decision denyInvalid(const AuthConfig& config, const Attempt& a) {
  std::string_view error = a.method == Method::kJwt ? "invalid_token" : "invalid_key";
  return denyWith(401, a.reason, error, a.description,
                  {challenge(config, a.method, error, a.description)});
}

Decision denyMissing(const AuthConfig& config, const Requirement& req) {
  std::vector<std::string> challenges;
  for (Method m : req.methods) challenges.push_back(challenge(config, m, "", ""));
  return denyWith(401, DenyReason::kMissingCredentials, "", "credentials required", challenges);
}

std::vector<Attempt> trySync(const AuthConfig& config, const Requirement& req,
                             const RequestView& request, int64_t now_unix_s, JwtCache* cache) {
  std::vector<Attempt> out;
  for (Method m : req.methods) {
    if (m == Method::kJwt) out.push_back(tryJwt(*config.jwt, request, now_unix_s, cache));
    if (m == Method::kApiKey) out.push_back(tryApiKey(*config.api_key, request));
    if (m == Method::kMtls) out.push_back(tryMtls(request));
  }
  return out;
}

Decision allOf(const AuthConfig& config, const Requirement& req, std::vector<Attempt> attempts,
               CalloutState* pending) {
  for (const Attempt& a : attempts) {
    if (a.state == Attempt::State::kAbsent) {
      return denyWith(401, DenyReason::kMissingCredentials, "", "credentials required",
                      {challenge(config, a.method, "", "")});
    }
    if (a.state == Attempt::State::kInvalid) return denyInvalid(config, a);
  }
  CalloutState p;
  p.requirement = &req;
  // The first listed method names the principal; JWT scopes count whichever comes first.
  if (!attempts.empty() && req.methods.front() != Method::kExtAuthz) {
    p.have_principal = true;
    p.allowed_by = allowReasonFor(attempts.front().method);
    p.principal = std::move(attempts.front().principal);
  }
  for (Attempt& a : attempts) {
    if (a.method == Method::kJwt) p.scopes = std::move(a.scopes);
  }
  if (req.uses(Method::kExtAuthz)) {
    *pending = std::move(p);
    Decision d;
    d.kind = Decision::Kind::kCallout;
    return d;
  }
  return authorize(config, req, p.allowed_by, std::move(p.principal), p.scopes);
}

Decision anyOf(const AuthConfig& config, const Requirement& req, std::vector<Attempt> attempts,
               CalloutState* pending) {
  std::optional<Decision> forbidden;
  for (Attempt& a : attempts) {
    if (a.state != Attempt::State::kValid) continue;
    Decision d = authorize(config, req, allowReasonFor(a.method), std::move(a.principal), a.scopes);
    if (d.kind == Decision::Kind::kAllow) return d;
    if (!forbidden) forbidden = std::move(d);
  }
  if (req.uses(Method::kExtAuthz)) {
    pending->requirement = &req;
    Decision d;
    d.kind = Decision::Kind::kCallout;
    return d;
  }
  if (forbidden) return std::move(*forbidden);
  for (const Attempt& a : attempts) {
    if (a.state == Attempt::State::kInvalid) return denyInvalid(config, a);
  }
  return denyMissing(config, req);
}

}  // namespace

Decision authenticate(const AuthConfig& config, const Requirement& requirement,
                      const RequestView& request, int64_t now_unix_s, CalloutState* pending,
                      JwtCache* jwt_cache) {
  if (requirement.mode == Requirement::Mode::kNone) {
    Decision d;
    d.kind = Decision::Kind::kAllow;
    d.allowed_by = AllowReason::kNoneRequired;
    return d;
  }
  std::vector<Attempt> attempts = trySync(config, requirement, request, now_unix_s, jwt_cache);
  if (requirement.mode == Requirement::Mode::kAllOf) {
    return allOf(config, requirement, std::move(attempts), pending);
  }
  return anyOf(config, requirement, std::move(attempts), pending);
}

}  // namespace remora::auth
