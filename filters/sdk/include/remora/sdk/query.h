#pragma once
// Query strings of request targets: percent-decoding and looking up one parameter, as
// application/x-www-form-urlencoded reads them. Pure functions, any thread.
//
//   std::string_view query = ...;  // what follows '?' in the request target
//   if (auto token = sdk::queryParam(query, "access_token")) ...

#include <optional>
#include <string>
#include <string_view>

namespace remora::sdk {

// The value of hex digit `c` (either case), or -1 when it is not one.
inline int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes '+' (a space) and %XX; a malformed escape is kept as written.
inline std::string urlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hexDigitValue(s[i + 1]) >= 0 &&
               hexDigitValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexDigitValue(s[i + 1]) * 16 + hexDigitValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The first value of parameter `name` in `query` (the part after '?', without it), both name and
// value decoded; "" for a parameter without '=' ("a&b"), nullopt when it is absent.
inline std::optional<std::string> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (urlDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : urlDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace remora::sdk
