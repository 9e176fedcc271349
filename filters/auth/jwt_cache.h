#pragma once
// JwtCache: the verified tokens one worker has seen recently, so a client repeating its bearer
// token is not parsed and signature-checked again on every request.
//
// Safety rests on three rules. Only tokens that passed the whole of JwtVerifier::verify
// (signature and every claim check) are inserted. An entry answers only while the token itself
// would still be valid: its exp and nbf are kept and checked, with the same clock skew, on every
// hit. And a cache belongs to one config (the filter's config object owns one per worker), so a
// config push, which may change keys, issuers or audiences, starts from an empty cache.
//
// What depends on the request (the route's scopes and principals) is not cached: a hit gives the
// principal and scopes back and the caller authorizes them against the matched rule as for a
// fresh verification.
//
// One instance per worker thread (sdk::PerWorker): no locks. Bounded by entry count with
// least-recently-used eviction; each entry holds its token, so memory is at most about
// capacity x jwt.max_token_bytes.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jwt_verifier.h"

namespace remora::auth {

class JwtCache {
 public:
  struct Entry {
    std::string token;
    std::string subject;
    std::vector<std::string> scopes;
    // The window in which the token is valid, clock skew already applied: valid while
    // not_before_s <= now <= expires_s. NumericDates may carry fractions, hence doubles.
    double not_before_s;
    double expires_s;
  };

  // `capacity` 0 disables the cache (lookups miss, inserts are dropped).
  explicit JwtCache(size_t capacity) : capacity_(capacity) {}
  JwtCache(const JwtCache&) = delete;
  JwtCache& operator=(const JwtCache&) = delete;

  // The entry for exactly these token bytes if it is still valid at `now_unix_s`, else nullptr.
  // A hit becomes the most recently used; an entry found expired is dropped. The pointer is good
  // until the next insert.
  const Entry* lookup(std::string_view token, int64_t now_unix_s);

  // Records a token that `verifier` accepted with `verdict` (which must be ok()). Evicts the
  // least recently used entry when full.
  void insert(std::string_view token, const JwtVerdict& verdict, const JwtRules& rules);

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  using List = std::list<Entry>;
  // Heterogeneous lookup: probing with the request's string_view allocates nothing.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const size_t capacity_;
  List lru_;  // most recently used first
  // Keys view the token held by their list node, which never moves (std::list).
  std::unordered_map<std::string_view, List::iterator, Hash, std::equal_to<>> index_;
};

}  // namespace remora::auth
