// Parsing of a route's `match` block: path (prefix, path or regex), methods, headers, query and
// host conditions.

#include <arpa/inet.h>

#include <cctype>

#include "config_parse.h"

namespace remora::router {

using sdk::ConfigErrors;
using sdk::ConfigReader;
using sdk::Json;

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool isHeaderValueSafe(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::unique_ptr<const RE2> compileRegex(ConfigReader& r, std::string_view key,
                                        const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);  // the config error carries the reason
  auto re = std::make_unique<const RE2>(pattern, options);
  if (re->ok()) return re;
  // RE2 says "missing ): (" — its reason, then the offending fragment; keep only the reason,
  // since the whole pattern is quoted already.
  std::string reason = re->error();
  std::string suffix = ": " + re->error_arg();
  if (!re->error_arg().empty() && reason.size() > suffix.size() &&
      reason.compare(reason.size() - suffix.size(), suffix.size(), suffix) == 0) {
    reason.resize(reason.size() - suffix.size());
  }
  r.fail(key, "invalid regex \"" + pattern + "\": " + reason);
  return nullptr;
}

namespace {

// One entry of `headers` or `query`: {name, exact | regex | present}.
void parseValueMatcher(const Json& json, const std::string& path, ConfigErrors& errors,
                       bool is_header, ValueMatcher& out) {
  ConfigReader r(json, path, errors);
  r.allowOnly({"name", "exact", "regex", "present"});
  if (auto name = r.string("name", /*required=*/true)) {
    if (is_header && !isToken(*name)) {
      r.fail("name", "must be a header name, got \"" + *name + "\"");
    } else if (name->empty()) {
      r.fail("name", "must not be empty");
    }
    out.name = is_header ? toLower(*name) : *name;
  }
  int kinds = r.has("exact") + r.has("regex") + r.has("present");
  if (kinds != 1) {
    r.failHere("exactly one of exact, regex, present is required");
    return;
  }
  if (auto exact = r.string("exact")) {
    out.kind = ValueMatcher::Kind::kExact;
    out.exact = *exact;
  } else if (auto regex = r.string("regex")) {
    out.kind = ValueMatcher::Kind::kRegex;
    out.regex = compileRegex(r, "regex", *regex);
  } else if (auto present = r.boolean("present")) {
    out.kind = ValueMatcher::Kind::kPresent;
    out.present = *present;
  }
}

void parseValueMatchers(ConfigReader& r, std::string_view key, bool is_header,
                        std::vector<ValueMatcher>& out, ConfigErrors& errors) {
  const Json* list = r.array(key);
  if (!list) return;
  out.resize(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    parseValueMatcher((*list)[i], sdk::indexPath(r.pathOf(key), i), errors, is_header, out[i]);
  }
}

void parseMethods(ConfigReader& r, std::vector<std::string>& out, ConfigErrors& errors) {
  const Json* list = r.array("methods");
  if (!list) return;
  if (list->empty()) r.fail("methods", "must not be empty (leave it out to match any method)");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& m = (*list)[i];
    std::string path = sdk::indexPath(r.pathOf("methods"), i);
    if (!m.is_string() || !isToken(m.get_ref<const std::string&>())) {
      errors.fail(path, "must be an HTTP method such as \"GET\"");
      continue;
    }
    std::string method = m.get<std::string>();
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back(std::move(method));
  }
}

void parsePath(ConfigReader& r, RouteMatch& out) {
  int kinds = r.has("prefix") + r.has("path") + r.has("regex");
  if (kinds != 1) {
    r.failHere("exactly one of prefix, path, regex is required");
    return;
  }
  if (auto prefix = r.string("prefix")) {
    if (prefix->empty() || (*prefix)[0] != '/') r.fail("prefix", "must start with '/'");
    out.path_kind = RouteMatch::PathKind::kPrefix;
    out.path = *prefix;
  } else if (auto exact = r.string("path")) {
    if (exact->empty() || (*exact)[0] != '/') r.fail("path", "must start with '/'");
    out.path_kind = RouteMatch::PathKind::kPath;
    out.path = *exact;
  } else if (auto regex = r.string("regex")) {
    out.path_kind = RouteMatch::PathKind::kRegex;
    out.regex = compileRegex(r, "regex", *regex);
  }
}

// "ip:port", "ip", "*:port", "[ip6]:port" or "[ip6]" into a canonical host and a port.
bool parseOriginalDst(std::string_view text, std::string& host, uint16_t& port) {
  std::string_view h = text;
  std::string_view p;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    h = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      p = rest.substr(1);
      if (p.empty()) return false;
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return false;  // a bare IPv6 address needs brackets
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (p.empty()) return false;
  }
  port = 0;
  if (!p.empty()) {
    uint32_t v = 0;
    for (char c : p) {
      if (c < '0' || c > '9' || p.size() > 5) return false;
      v = v * 10 + uint32_t(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    port = uint16_t(v);
  }
  if (h == "*") {
    host.clear();
    return port != 0;  // "*" alone would match everything: say nothing instead
  }
  std::string hs(h);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  int family = hs.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, hs.c_str(), buf) != 1) return false;
  inet_ntop(family, buf, out, sizeof(out));
  host = out;
  return true;
}

}  // namespace

void parseMatch(const Json& json, const std::string& path, ConfigErrors& errors, RouteMatch& out) {
  ConfigReader r(json, path, errors);
  if (!r.ok()) return;
  r.allowOnly({"prefix", "path", "regex", "methods", "headers", "query", "host", "original_dst"});
  parsePath(r, out);
  parseMethods(r, out.methods, errors);
  parseValueMatchers(r, "headers", /*is_header=*/true, out.headers, errors);
  parseValueMatchers(r, "query", /*is_header=*/false, out.query, errors);
  if (auto host = r.string("host")) {
    if (host->empty() || !isHeaderValueSafe(*host) || host->find(' ') != std::string::npos) {
      r.fail("host", "must be a host name such as \"api.example.com\" or \"*.example.com\"");
    }
    out.host = toLower(*host);
  }
  if (auto dst = r.string("original_dst")) {
    out.has_original_dst = true;
    if (!parseOriginalDst(*dst, out.original_dst_host, out.original_dst_port)) {
      r.fail("original_dst",
             "must be \"ip:port\", \"ip\" or \"*:port\" (IPv6 in brackets), e.g. "
             "\"10.0.0.7:8080\"");
    }
  }
}

}  // namespace remora::router
