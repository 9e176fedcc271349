#include "network/tls_ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include <cstring>
#include <mutex>

namespace remora::network {
namespace {

struct Key {
  unsigned char name[16];
  unsigned char aes[32];
  unsigned char hmac[32];
  std::chrono::steady_clock::time_point born;
  bool valid = false;
};

struct Ring {
  std::mutex mu;
  Key current;
  Key previous;
};

Ring& ring() {
  static Ring* r = new Ring();  // never destroyed: workers may still call in at exit
  return *r;
}

void fresh(Key& k) {
  RAND_bytes(k.name, sizeof(k.name));
  RAND_bytes(k.aes, sizeof(k.aes));
  RAND_bytes(k.hmac, sizeof(k.hmac));
  k.born = std::chrono::steady_clock::now();
  k.valid = true;
}

void rotateLocked(Ring& r) {
  r.previous = r.current;
  fresh(r.current);
}

bool setMac(EVP_MAC_CTX* mac, unsigned char* key) {
  char digest[] = "sha256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
                         OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

int TicketKeys::callback(SSL*, unsigned char key_name[16], unsigned char* iv,
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  Ring& r = ring();
  std::lock_guard<std::mutex> g(r.mu);
  const auto now = std::chrono::steady_clock::now();
  if (!r.current.valid || now - r.current.born >= kRotation) rotateLocked(r);
  if (encrypt) {
    if (RAND_bytes(iv, 16) != 1) return -1;
    std::memcpy(key_name, r.current.name, 16);
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, r.current.aes, iv) != 1) return -1;
    return setMac(mac, r.current.hmac) ? 1 : -1;
  }
  Key* k = nullptr;
  int result = 1;
  if (std::memcmp(key_name, r.current.name, 16) == 0) {
    k = &r.current;
  } else if (r.previous.valid && std::memcmp(key_name, r.previous.name, 16) == 0 &&
             now - r.previous.born < 2 * kRotation) {
    k = &r.previous;
    result = 2;  // resume, and issue a ticket under the current key
  }
  if (k == nullptr) return 0;  // unknown or too old: a full handshake
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k->aes, iv) != 1) return -1;
  return setMac(mac, k->hmac) ? result : -1;
}

void TicketKeys::rotateNow() {
  Ring& r = ring();
  std::lock_guard<std::mutex> g(r.mu);
  rotateLocked(r);
}

}  // namespace remora::network
