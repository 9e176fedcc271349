#include "codec/header_map.h"

#include <strings.h>
#include <array>

namespace remora::http {
namespace {

constexpr std::array<bool, 256> makeTchar() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = makeTchar();

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

// `lit` is lower-case letters and '-'. Header names are tokens, so OR-ing 0x20 folds case
// without a table and maps no other token character onto a letter or '-'.
template <size_t N>
inline bool isName(std::string_view n, const char (&lit)[N]) {
  for (size_t i = 0; i < N - 1; ++i)
    if ((n[i] | 0x20) != lit[i]) return false;
  return true;
}

}  // namespace

HeaderToken classifyHeader(std::string_view n) {
  // Dispatch on length first so most names cost one compare.
  switch (n.size()) {
    case 2:
      if (isName(n, "te")) return HeaderToken::kTe;
      break;
    case 4:
      if (isName(n, "host")) return HeaderToken::kHost;
      break;
    case 6:
      if (isName(n, "expect")) return HeaderToken::kExpect;
      break;
    case 7:
      if (isName(n, "upgrade")) return HeaderToken::kUpgrade;
      if (isName(n, "trailer")) return HeaderToken::kTrailer;
      break;
    case 10:
      if (isName(n, "connection")) return HeaderToken::kConnection;
      if (isName(n, "keep-alive")) return HeaderToken::kKeepAlive;
      break;
    case 12:
      if (isName(n, "x-request-id")) return HeaderToken::kXRequestId;
      break;
    case 14:
      if (isName(n, "content-length")) return HeaderToken::kContentLength;
      break;
    case 15:
      if (isName(n, "x-forwarded-for")) return HeaderToken::kXForwardedFor;
      break;
    case 16:
      if (isName(n, "proxy-connection")) return HeaderToken::kProxyConnection;
      break;
    case 17:
      if (isName(n, "transfer-encoding")) return HeaderToken::kTransferEncoding;
      if (isName(n, "x-forwarded-proto")) return HeaderToken::kXForwardedProto;
      break;
    default:
      break;
  }
  return HeaderToken::kOther;
}

HeaderToken HeaderMap::finishLast() {
  Entry& e = entries_.back();
  e.token = classifyHeader(name(e));
  ++counts_[size_t(e.token)];
  return e.token;
}

void HeaderMap::add(std::string_view n, std::string_view v) {
  add(classifyHeader(n), n, v);
}

void HeaderMap::add(HeaderToken token, std::string_view n, std::string_view v) {
  Entry e{uint32_t(buf_.size()), uint32_t(n.size()), 0, uint32_t(v.size()), token, false};
  buf_.append(n);
  e.value_off = uint32_t(buf_.size());
  buf_.append(v);
  entries_.push_back(e);
  ++counts_[size_t(e.token)];
}

void HeaderMap::set(std::string_view n, std::string_view v) {
  remove(n);
  add(n, v);
}

size_t HeaderMap::remove(std::string_view n) {
  size_t removed = 0;
  for (Entry& e : entries_) {
    if (!e.removed && equalsIgnoreCase(name(e), n)) {
      e.removed = true;
      --counts_[size_t(e.token)];
      ++removed;
    }
  }
  return removed;
}

void HeaderMap::removeToken(HeaderToken token) {
  for (Entry& e : entries_)
    if (e.token == token && !e.removed) {
      e.removed = true;
      --counts_[size_t(token)];
    }
}

std::optional<std::string_view> HeaderMap::get(std::string_view n) const {
  for (const Entry& e : entries_)
    if (!e.removed && equalsIgnoreCase(name(e), n)) return value(e);
  return std::nullopt;
}

std::optional<std::string_view> HeaderMap::get(HeaderToken token) const {
  if (counts_[size_t(token)] == 0) return std::nullopt;
  for (const Entry& e : entries_)
    if (!e.removed && e.token == token) return value(e);
  return std::nullopt;
}

void HeaderMap::serialize(std::string& out) const {
  for (const Entry& e : entries_) {
    if (e.removed) continue;
    out.append(buf_.data() + e.name_off, e.name_len);
    out.append(": ", 2);
    out.append(buf_.data() + e.value_off, e.value_len);
    out.append("\r\n", 2);
  }
}

bool isValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!kTchar[c]) return false;
  return true;
}

bool isValidHeaderValue(std::string_view value) {
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

bool headerListContains(std::string_view value, std::string_view token) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == token.size()) {
      bool eq = true;
      for (size_t i = 0; i < item.size() && eq; ++i) eq = lower(item[i]) == lower(token[i]);
      if (eq) return true;
    }
    pos = comma + 1;
  }
  return false;
}

}  // namespace remora::http
