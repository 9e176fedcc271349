#include "api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "encoding.h"

namespace remora::auth {

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  // One-shot EVP_Digest: no context to keep, safe from any thread.
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

bool constantTimeEqual(const uint8_t* a, const uint8_t* b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0;
}

sdk::Result<ApiKeyStore> ApiKeyStore::create(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  ApiKeyStore store;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [name, hex] = entries[i];
    std::string where = "[" + std::to_string(i) + "]";
    if (name.empty()) return sdk::Error{where + ".name: must not be empty"};
    auto bytes = fromHex(hex);
    if (!bytes || bytes->size() != 32) {
      return sdk::Error{where + ".sha256: must be 64 hex digits (sha256 of the key)"};
    }
    ApiKeyEntry e;
    e.name = name;
    std::memcpy(e.digest.data(), bytes->data(), 32);
    for (size_t j = 0; j < store.entries_.size(); ++j) {
      if (store.entries_[j].digest == e.digest) {
        return sdk::Error{where + ".sha256: same key as [" + std::to_string(j) + "]"};
      }
    }
    store.entries_.push_back(std::move(e));
  }
  return store;
}

std::optional<std::string_view> ApiKeyStore::lookup(std::string_view presented,
                                                    EqualFn equal) const {
  Sha256Digest digest = sha256(presented);
  const ApiKeyEntry* hit = nullptr;
  for (const ApiKeyEntry& e : entries_) {
    // No early exit: digests are unique, so at most one matches anyway.
    bool same = equal(digest.data(), e.digest.data(), digest.size());
    if (same) hit = &e;
  }
  if (hit == nullptr) return std::nullopt;
  return std::string_view(hit->name);
}

}  // namespace remora::auth
