#pragma once
// API keys, stored hashed: the config holds sha256(key) in hex and a name (the principal), never
// the key itself, so a leaked config or /config dump does not leak credentials. Built once per
// config (main thread), read by every worker.

#include <remora/sdk/result.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::auth {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(std::string_view data);

// Compares two digests in constant time (CRYPTO_memcmp).
bool constantTimeEqual(const uint8_t* a, const uint8_t* b, size_t len);

struct ApiKeyEntry {
  std::string name;
  Sha256Digest digest{};
};

class ApiKeyStore {
 public:
  using EqualFn = bool (*)(const uint8_t*, const uint8_t*, size_t);

  // `entries` as (name, sha256 hex). Names must be non-empty and digests unique; errors are
  // "[i].name: ..." / "[i].sha256: ..." for the caller to prefix with its field path.
  static sdk::Result<ApiKeyStore> create(
      const std::vector<std::pair<std::string, std::string>>& entries);

  // The name of the key `presented` hashes to, or nullopt. Every stored digest is compared, with
  // `equal` (constant time by default; tests pass a counting wrapper), whether or not one already
  // matched, so the time taken does not say which key, or how much of one, was right.
  std::optional<std::string_view> lookup(std::string_view presented,
                                         EqualFn equal = constantTimeEqual) const;

  size_t size() const { return entries_.size(); }

 private:
  std::vector<ApiKeyEntry> entries_;
};

}  // namespace remora::auth
