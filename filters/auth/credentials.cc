#include "credentials.h"

#include <remora/sdk/query.h>

#include "path_match.h"

namespace remora::auth {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> extractCredential(const CredentialSource& source,
                                             const RequestView& request) {
  if (!source.header.empty()) {
    if (auto value = request.header(source.header)) {
      std::string_view v = trim(*value);
      if (source.prefix.empty()) return std::string(v);
      // "Bearer" alone, with the trailing space trimmed away, is a present but empty token.
      std::string_view scheme = trim(source.prefix);
      if (startsWithNoCase(v, source.prefix))
        return std::string(trim(v.substr(source.prefix.size())));
      if (v.size() == scheme.size() && startsWithNoCase(v, scheme)) return std::string();
    }
  }
  if (!source.query_param.empty()) {
    return sdk::queryParam(targetQuery(request.target()), source.query_param);
  }
  return std::nullopt;
}

}  // namespace remora::auth
