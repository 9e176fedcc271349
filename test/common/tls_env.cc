#include "common/tls_env.h"

#include <stdexcept>

#include "common/process.h"

namespace remora::test {
namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace

DevCerts::DevCerts() {
  Process p({"/bin/bash", std::string(REMORA_SOURCE_DIR) + "/scripts/dev-certs.sh", dir_.path()});
  auto st = p.waitExit(std::chrono::seconds(60));
  if (!st || !st->exitedWith(0))
    throw std::runtime_error("scripts/dev-certs.sh failed: " + p.output());
}

bool SClientResult::handshakeOk() const {
  return exit_code == 0 && output.find("CONNECTED") != std::string::npos &&
         output.find("Cipher is (NONE)") == std::string::npos;
}

SClientResult sClient(uint16_t port, const std::vector<std::string>& args,
                      const std::string& input) {
  std::string cmd = "printf %s " + shellQuote(input) +
                    " | timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port);
  for (const std::string& a : args) cmd += " " + shellQuote(a);
  Process p({"/bin/bash", "-c", cmd});
  auto st = p.waitExit(std::chrono::seconds(20));
  return {st ? st->code : -1, p.output()};
}

}  // namespace remora::test
