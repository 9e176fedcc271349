#pragma once
// Token buckets and a bounded, least-recently-used table of them. Plain single-threaded data:
// each worker owns its own (see PerWorker in rate_limit_filter.cc), so nothing here locks.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace remora::filters::rate_limit {

// Refill parameters shared by every bucket of a rule.
struct BucketPolicy {
  double tokens_per_us;  // rate / per
  double burst;          // capacity; a new bucket starts full
};

class TokenBucket {
 public:
  TokenBucket(const BucketPolicy& p, uint64_t now_us) : tokens_(p.burst), last_us_(now_us) {}
  // A bucket handed over from another config (state hand-off), capped at this policy's burst.
  TokenBucket(const BucketPolicy& p, double tokens, uint64_t last_us)
      : tokens_(std::clamp(tokens, 0.0, p.burst)), last_us_(last_us) {}

  double tokens() const { return tokens_; }
  uint64_t lastUs() const { return last_us_; }

  // Refills for the time elapsed since the last call, then takes one token if there is one.
  bool tryTake(const BucketPolicy& p, uint64_t now_us) {
    if (now_us > last_us_) {
      tokens_ =
          std::min(p.burst, tokens_ + static_cast<double>(now_us - last_us_) * p.tokens_per_us);
      last_us_ = now_us;
    }
    if (tokens_ < 1.0 - kEpsilon) return false;
    tokens_ = std::max(0.0, tokens_ - 1.0);
    return true;
  }

  // Whole tokens left (what x-ratelimit-remaining reports).
  uint64_t remaining() const { return static_cast<uint64_t>(std::floor(tokens_ + kEpsilon)); }
  // Seconds until one token is available (0 if one is), rounded up: Retry-After.
  uint64_t secondsUntilToken(const BucketPolicy& p) const { return secondsUntil(p, 1.0); }
  // Seconds until the bucket is full again, rounded up: x-ratelimit-reset.
  uint64_t secondsUntilFull(const BucketPolicy& p) const { return secondsUntil(p, p.burst); }

 private:
  // Refill rates like 2/s are not exact in binary: 0.998 + 0.002 may sum to 0.99999...; a token
  // that is "almost there" by rounding error counts as there.
  static constexpr double kEpsilon = 1e-9;

  uint64_t secondsUntil(const BucketPolicy& p, double level) const {
    if (tokens_ >= level - kEpsilon) return 0;
    return static_cast<uint64_t>(std::ceil((level - tokens_) / p.tokens_per_us / 1e6));
  }

  double tokens_;
  uint64_t last_us_;
};

// At most `max_keys` buckets, one per key (client address, header value). A new key beyond the
// bound evicts the least recently used one: an idle key forgets its history, which for a token
// bucket only means it starts full again.
class BucketTable {
 public:
  explicit BucketTable(size_t max_keys) : max_keys_(max_keys == 0 ? 1 : max_keys) {}

  // The bucket for `key`, created full (evicting the LRU key if the table is full). Sets
  // `*evicted` when an eviction happened. A hit does not allocate.
  TokenBucket& get(std::string_view key, const BucketPolicy& p, uint64_t now_us, bool* evicted) {
    *evicted = false;
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);  // most recently used first
      return it->second->second;
    }
    if (index_.size() >= max_keys_) {
      auto last = std::prev(lru_.end());
      index_.erase(std::string_view(last->first));
      lru_.erase(last);
      *evicted = true;
    }
    lru_.emplace_front(std::string(key), TokenBucket(p, now_us));
    index_.emplace(std::string_view(lru_.front().first), lru_.begin());
    return lru_.front().second;
  }

  size_t size() const { return index_.size(); }

  // Every key and bucket, least recently used first (so put() in this order keeps the order).
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) fn(it->first, it->second);
  }
  // Sets `key`'s bucket, as the most recently used; evicts the LRU key beyond max_keys.
  void put(std::string_view key, const TokenBucket& bucket) {
    bool evicted = false;
    get(key, BucketPolicy{0, 0}, 0, &evicted) = bucket;
  }

 private:
  using Entry = std::pair<std::string, TokenBucket>;
  size_t max_keys_;
  std::list<Entry> lru_;
  // Keys view the strings owned by the list nodes, which never move.
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

}  // namespace remora::filters::rate_limit
