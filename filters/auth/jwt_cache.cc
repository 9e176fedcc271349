#include "jwt_cache.h"

#include <limits>

namespace remora::auth {

const JwtCache::Entry* JwtCache::lookup(std::string_view token, int64_t now_unix_s) {
  if (capacity_ == 0) return nullptr;
  auto it = index_.find(token);
  if (it == index_.end()) return nullptr;
  List::iterator node = it->second;
  const auto now = static_cast<double>(now_unix_s);
  if (now > node->expires_s || now < node->not_before_s) {
    // Expired (or the clock went back before nbf): the verifier decides again, and says why.
    index_.erase(it);
    lru_.erase(node);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, node);
  return &*node;
}

void JwtCache::insert(std::string_view token, const JwtVerdict& verdict, const JwtRules& rules) {
  if (capacity_ == 0 || !verdict.ok()) return;
  const auto skew = static_cast<double>(rules.clock_skew_s);
  Entry entry;
  entry.token = std::string(token);
  entry.subject = verdict.subject;
  entry.scopes = verdict.scopes;
  // Same arithmetic as JwtVerifier::checkClaims: expired once now > exp + skew, not yet valid
  // while now + skew < nbf. No exp (require_exp: false): valid until evicted or a config push.
  entry.expires_s = verdict.exp ? *verdict.exp + skew : std::numeric_limits<double>::infinity();
  entry.not_before_s = verdict.nbf ? *verdict.nbf - skew : -std::numeric_limits<double>::infinity();
  if (auto it = index_.find(token); it != index_.end()) {
    // Already there (e.g. re-verified after an expiry race): refresh in place.
    List::iterator node = it->second;
    index_.erase(it);
    lru_.erase(node);
  }
  while (index_.size() >= capacity_) {
    index_.erase(std::string_view(lru_.back().token));
    lru_.pop_back();
  }
  lru_.push_front(std::move(entry));
  index_.emplace(std::string_view(lru_.front().token), lru_.begin());
}

}  // namespace remora::auth
