#include "codec/request_head.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "codec/request_target.h"

namespace remora::http {

namespace {

// RFC 3986 reg-name characters other than pct-encoded: unreserved and sub-delims. A table, so
// that a Host costs one load per byte on every request.
constexpr std::array<bool, 256> makeRegNameTable() {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[size_t(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[size_t(c)] = true;
  for (int c = '0'; c <= '9'; ++c) t[size_t(c)] = true;
  for (char c : std::string_view("-._~!$&'()*+,;=")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kRegName = makeRegNameTable();

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Says why `v` is not an authority: userinfo when it holds an "@", else just invalid.
bool invalidAuthority(std::string_view v, const char** why) {
  *why = v.find('@') != std::string_view::npos ? "userinfo in Host" : "invalid Host";
  return false;
}

bool validPort(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  uint32_t n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + uint32_t(c - '0');
  }
  return n <= 65535;
}

bool validIpv6(std::string_view h) {
  char buf[INET6_ADDRSTRLEN];
  if (h.empty() || h.size() >= sizeof(buf)) return false;
  std::memcpy(buf, h.data(), h.size());
  buf[h.size()] = '\0';
  in6_addr addr;
  return inet_pton(AF_INET6, buf, &addr) == 1;
}

HeadRefusal refuse(int status, stats::ProtocolError kind, const char* detail) {
  return {status, kind, detail};
}

HeadRefusal badHost(const char* detail) {
  return refuse(400, stats::ProtocolError::kBadHost, detail);
}

// "http://host:port/p?q" -> "/p?q", checking the authority against the Host header.
HeadRefusal fromAbsoluteForm(MessageHead& head) {
  std::string_view url = head.url;
  size_t scheme_end = url.find("://");
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos ||
      !(equalsIgnoreCase(scheme, "http") || equalsIgnoreCase(scheme, "https")))
    return refuse(400, stats::ProtocolError::kBadRequest, "unsupported request target");
  std::string_view rest = url.substr(scheme_end + 3);
  size_t end = rest.find_first_of("/?#");
  if (end == std::string_view::npos) end = rest.size();
  std::string_view authority = rest.substr(0, end);
  const char* why = "";
  if (!validAuthority(authority, &why)) return badHost(why);
  std::optional<std::string_view> host = head.headers.get(HeaderToken::kHost);
  if (host && !equalsIgnoreCase(*host, authority))
    return badHost("Host does not match the request target");
  if (!host) head.headers.add(HeaderToken::kHost, "host", authority);
  std::string path = end < rest.size() && rest[end] == '/' ? "" : "/";
  path.append(rest.substr(end));
  head.original_url = std::move(head.url);
  head.url = std::move(path);
  return {};
}

HeadRefusal checkHost(const MessageHead& head, std::string_view authority,
                      std::string* valid_host) {
  size_t hosts = head.headers.count(HeaderToken::kHost);
  if (hosts > 1) return badHost("repeated Host header");
  const char* why = "";
  if (!authority.empty() && !validAuthority(authority, &why)) return badHost(why);
  if (hosts == 0) return {};
  std::string_view host = *head.headers.get(HeaderToken::kHost);
  // An empty memo holds nothing: an empty Host is never valid.
  if (valid_host == nullptr || valid_host->empty() || *valid_host != host) {
    if (!validAuthority(host, &why)) return badHost(why);
    if (valid_host != nullptr) valid_host->assign(host);
  }
  if (!authority.empty() && !equalsIgnoreCase(host, authority))
    return badHost("Host and :authority disagree");
  return {};
}

// Keeps the listed protocols of the Upgrade header; without any, the request is a plain one.
void filterUpgrade(MessageHead& head, const std::vector<std::string>& allowed) {
  head.headers.remove("http2-settings");
  std::string kept;
  for (const HeaderMap::Entry& e : head.headers.entries()) {
    if (e.removed || e.token != HeaderToken::kUpgrade) continue;
    std::string_view value = head.headers.value(e);
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t comma = std::min(value.find(',', pos), value.size());
      std::string_view item = value.substr(pos, comma - pos);
      pos = comma + 1;
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      std::string_view name = item.substr(0, item.find('/'));
      bool ok = false;
      for (const std::string& a : allowed) ok |= equalsIgnoreCase(name, a);
      if (!ok || equalsIgnoreCase(name, "h2c")) continue;
      if (!kept.empty()) kept.append(", ");
      kept.append(item);
    }
  }
  if (kept.empty()) {
    head.headers.removeToken(HeaderToken::kUpgrade);
    head.upgrade = false;
  } else {
    head.headers.set("upgrade", kept);
  }
}

}  // namespace

bool validAuthority(std::string_view v, const char** why) {
  if (v.empty()) return invalidAuthority(v, why);
  size_t i = 0;
  if (v[0] == '[') {
    size_t close = v.find(']');
    if (close == std::string_view::npos || !validIpv6(v.substr(1, close - 1)))
      return invalidAuthority(v, why);
    i = close + 1;
    if (i < v.size() && v[i] != ':') return invalidAuthority(v, why);
  } else {
    // One pass over the reg-name up to the port's colon.
    for (; i < v.size() && v[i] != ':'; ++i) {
      if (kRegName[static_cast<unsigned char>(v[i])]) continue;
      if (v[i] != '%' || i + 2 >= v.size() || !isHex(v[i + 1]) || !isHex(v[i + 2]))
        return invalidAuthority(v, why);
      i += 2;
    }
    if (i == 0) return invalidAuthority(v, why);
  }
  if (i < v.size() && !validPort(v.substr(i + 1))) return invalidAuthority(v, why);
  return true;
}

HeadRefusal checkRequestHead(MessageHead& head, const config::Listener& listener,
                             std::string_view authority, std::string* valid_host) {
  if (head.method == HTTP_CONNECT)
    return refuse(405, stats::ProtocolError::kConnectRefused, "CONNECT is not allowed");
  if (HeadRefusal r = checkHost(head, authority, valid_host)) return r;
  if (!head.url.empty() && head.url[0] != '/' && head.url != "*") {
    if (HeadRefusal r = fromAbsoluteForm(head)) return r;
  }
  if (!head.url.empty() && head.url[0] == '/') {
    std::string original;
    TargetError e = normalizeTarget(head.url, listener.path_normalization, original);
    if (e != TargetError::kNone)
      return refuse(400, stats::ProtocolError::kBadPath, targetErrorText(e));
    if (!original.empty() && head.original_url.empty()) head.original_url = std::move(original);
  }
  if (head.headers.count(HeaderToken::kUpgrade) > 0) filterUpgrade(head, listener.upgrades);
  return {};
}

}  // namespace remora::http
