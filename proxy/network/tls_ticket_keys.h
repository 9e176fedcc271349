#pragma once
// Session ticket keys: one ring for the whole process, so a ticket one worker (or one snapshot's
// context) issued resumes on any other. The key in use rotates every kRotation; tickets under
// the previous key still resume (and get a new ticket), so a ticket lives at most two periods.
// Keys never leave memory. Called from OpenSSL's ticket callback on any worker, under a mutex
// (only full handshakes and resumptions take it).

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <chrono>

namespace remora::network {

class TicketKeys {
 public:
  static constexpr std::chrono::seconds kRotation{3600};

  // SSL_CTX_set_tlsext_ticket_key_evp_cb's callback.
  static int callback(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                      EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt);

  // Starts a new key now (tests; the schedule does it otherwise).
  static void rotateNow();
};

}  // namespace remora::network
