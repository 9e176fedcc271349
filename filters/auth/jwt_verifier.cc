#include "jwt_verifier.h"

#include <algorithm>
#include <cmath>

#include "jwt.h"

namespace remora::auth {
namespace {

using nlohmann::json;

JwtVerdict fail(JwtFailure f, std::string_view why) {
  JwtVerdict v;
  v.failure = f;
  v.description = why;
  return v;
}

bool listed(const std::vector<std::string>& list, const json& value) {
  return value.is_string() &&
         std::find(list.begin(), list.end(), value.get_ref<const std::string&>()) != list.end();
}

// RFC 7519 §4.1.3: "aud" is a string or a list of strings; one match is enough.
bool audienceMatches(const std::vector<std::string>& allowed, const json& aud) {
  if (aud.is_string()) return listed(allowed, aud);
  if (!aud.is_array()) return false;
  return std::any_of(aud.begin(), aud.end(), [&](const json& a) { return listed(allowed, a); });
}

void splitScopes(const std::string& s, std::vector<std::string>* out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out->emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
}

std::vector<std::string> scopesOf(const json& claims) {
  std::vector<std::string> out;
  // "scope" is RFC 8693's space-separated string; "scp" is the list form some issuers use.
  for (const char* name : {"scope", "scp"}) {
    auto it = claims.find(name);
    if (it == claims.end()) continue;
    if (it->is_string()) splitScopes(it->get_ref<const std::string&>(), &out);
    if (it->is_array()) {
      for (const json& s : *it) {
        if (s.is_string()) out.push_back(s.get<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

std::string_view jwtFailureName(JwtFailure f) {
  switch (f) {
    case JwtFailure::kNone:
      return "none";
    case JwtFailure::kMalformed:
      return "malformed";
    case JwtFailure::kAlgNotAllowed:
      return "alg_not_allowed";
    case JwtFailure::kUnknownKey:
      return "unknown_key";
    case JwtFailure::kAlgMismatch:
      return "alg_mismatch";
    case JwtFailure::kBadSignature:
      return "bad_signature";
    case JwtFailure::kExpired:
      return "expired";
    case JwtFailure::kNotYetValid:
      return "not_yet_valid";
    case JwtFailure::kMissingExp:
      return "missing_exp";
    case JwtFailure::kBadIssuer:
      return "bad_issuer";
    case JwtFailure::kBadAudience:
      return "bad_audience";
  }
  return "unknown";
}

JwtVerdict JwtVerifier::verify(std::string_view token, int64_t now_unix_s) const {
  if (token.size() > rules_.max_token_bytes) return fail(JwtFailure::kMalformed, "token too large");
  std::string why;
  auto jwt = parseJwt(token, &why);
  if (!jwt) return fail(JwtFailure::kMalformed, "malformed token");
  auto alg = parseJwtAlg(jwt->alg);
  if (!alg) return fail(JwtFailure::kAlgNotAllowed, "algorithm not allowed");

  // A kid names its key; keys configured without a kid stand in for any kid (a single PEM key
  // fronting an issuer that labels its tokens). No kid: every key is a candidate.
  bool kid_known =
      !jwt->kid.empty() &&
      std::any_of(keys_.begin(), keys_.end(), [&](const JwtKey& k) { return k.kid == jwt->kid; });
  auto eligible = [&](const JwtKey& k) {
    return jwt->kid.empty() || k.kid == jwt->kid || (!kid_known && k.kid.empty());
  };
  bool candidate = false;
  bool verified = false;
  for (const JwtKey& key : keys_) {
    if (!eligible(key)) continue;
    candidate = true;
    // The token's alg must be exactly the key's: an HS256 token is never checked with an RSA
    // public key's bytes as its HMAC secret.
    if (key.alg != *alg) continue;
    if (verifySignature(*jwt, key)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    if (!candidate) return fail(JwtFailure::kUnknownKey, "unknown key id");
    bool any_alg = std::any_of(keys_.begin(), keys_.end(),
                               [&](const JwtKey& k) { return eligible(k) && k.alg == *alg; });
    if (!any_alg) return fail(JwtFailure::kAlgMismatch, "algorithm does not match the key");
    return fail(JwtFailure::kBadSignature, "signature verification failed");
  }
  return checkClaims(jwt->claims, now_unix_s);
}

JwtVerdict JwtVerifier::checkClaims(const json& claims, int64_t now_unix_s) const {
  // NumericDate may carry a fraction (RFC 7519 §2); compare in doubles.
  const auto now = static_cast<double>(now_unix_s);
  const auto skew = static_cast<double>(rules_.clock_skew_s);
  auto exp = claims.find("exp");
  if (exp == claims.end()) {
    if (rules_.require_exp) return fail(JwtFailure::kMissingExp, "token has no expiry");
  } else if (!exp->is_number() || !std::isfinite(exp->get<double>())) {
    return fail(JwtFailure::kMalformed, "exp is not a number");
  } else if (now > exp->get<double>() + skew) {
    return fail(JwtFailure::kExpired, "token expired");
  }
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (!nbf->is_number() || !std::isfinite(nbf->get<double>())) {
      return fail(JwtFailure::kMalformed, "nbf is not a number");
    }
    if (now + skew < nbf->get<double>())
      return fail(JwtFailure::kNotYetValid, "token not yet valid");
  }
  if (!rules_.issuers.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !listed(rules_.issuers, *iss)) {
      return fail(JwtFailure::kBadIssuer, "issuer not accepted");
    }
  }
  if (!rules_.audiences.empty()) {
    auto aud = claims.find("aud");
    if (aud == claims.end() || !audienceMatches(rules_.audiences, *aud)) {
      return fail(JwtFailure::kBadAudience, "audience not accepted");
    }
  }
  JwtVerdict ok;
  if (exp != claims.end()) ok.exp = exp->get<double>();
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) ok.nbf = nbf->get<double>();
  if (auto sub = claims.find("sub"); sub != claims.end() && sub->is_string()) {
    ok.subject = sub->get<std::string>();
  }
  ok.scopes = scopesOf(claims);
  return ok;
}

}  // namespace remora::auth
