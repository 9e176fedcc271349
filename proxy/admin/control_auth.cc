#include "admin/control_auth.h"

#include <strings.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace remora::admin {
namespace {

constexpr const char* kTokenField = "admin.control.token_file";

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

ConfigResult<std::string> readTokenFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return FieldErrors{{kTokenField, path + ": cannot open: " + std::strerror(errno)}};
  }
  std::ostringstream text;
  text << file.rdbuf();
  std::string token = text.str();
  while (!token.empty() && isSpace(token.back())) token.pop_back();
  if (token.empty()) return FieldErrors{{kTokenField, path + ": the token file is empty"}};
  return token;
}

bool constantTimeEquals(std::string_view given, std::string_view expected) {
  // Every byte of `given` is compared with some byte of `expected` (cycling when it is
  // shorter), and the lengths fold into the same accumulator: no early exit, no branch on data.
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  if (expected.empty()) return given.empty();
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

AuthOutcome checkBearer(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is compared exactly.
  if (authorization.size() <= kScheme.size() ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0)
    return AuthOutcome::kMissing;
  std::string_view given = authorization.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  return constantTimeEquals(given, token) ? AuthOutcome::kOk : AuthOutcome::kInvalid;
}

}  // namespace remora::admin
