#pragma once
// TLS test material: certificates made at test time by scripts/dev-certs.sh (the openssl CLI),
// and the openssl s_client runner the handshake tests use.

#include <cstdint>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace remora::test {

// A fresh set of dev certificates (see scripts/dev-certs.sh for what each one is).
class DevCerts {
 public:
  // Throws std::runtime_error when the script fails.
  DevCerts();
  // DIR/NAME, e.g. file("server.crt").
  std::string file(const std::string& name) const { return dir_.file(name); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
};

struct SClientResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  bool handshakeOk() const;
};

// `openssl s_client -connect 127.0.0.1:PORT` with `args`, sending `input` then closing stdin.
SClientResult sClient(uint16_t port, const std::vector<std::string>& args,
                      const std::string& input = "");

}  // namespace remora::test
