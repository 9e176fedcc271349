#include "config/yaml_fields.h"

#include <arpa/inet.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>

namespace remora::config::yaml {

namespace {

// Values longer than this are cut in error messages: one line per error must stay readable.
constexpr size_t kMaxQuotedChars = 80;

bool isDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// -12, 3, 1.5: shown bare in errors, the way the user wrote them.
bool looksNumeric(std::string_view text) {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return isDigits(text);
  return isDigits(text.substr(0, dot)) && isDigits(text.substr(dot + 1));
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). yaml-cpp passes
// any byte through, but the JSON side of the admin API (nlohmann::json::dump) throws on invalid
// UTF-8 and the YAML emitter rewrites it, so a text field must be valid to be shown or round-trip.
bool isUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // past U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char b = static_cast<unsigned char>(text[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return false;
    }
    i += extra + 1;
  }
  return true;
}

// Canonical text of a numeric host, or nullopt. inet_pton is strict (no hex, no leading zeros in
// IPv4), and inet_ntop's output makes "[0:0::1]" and "[::1]" the same address.
std::optional<std::string> canonicalHost(const std::string& host, int family) {
  unsigned char bytes[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(family, host.c_str(), bytes) != 1) return std::nullopt;
  if (inet_ntop(family, bytes, text, sizeof(text)) == nullptr) return std::nullopt;
  return std::string(text);
}

// Notes whether a parsed document held anything other than null.
class ContentProbe : public YAML::EventHandler {
 public:
  bool hasContent() const { return has_content_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { has_content_ = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    has_content_ = true;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    has_content_ = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    has_content_ = true;
  }
  void OnMapEnd() override {}

 private:
  bool has_content_ = false;
};

}  // namespace

void Errors::add(std::string_view path, std::string_view what) {
  errors_.push_back({std::string(path), std::string(what)});
}

void Errors::expected(std::string_view path, std::string_view expected, const YAML::Node& found) {
  add(path, "expected " + std::string(expected) + ", got " + describe(found));
}

size_t countDocuments(const std::string& text, size_t limit) {
  std::istringstream input(text);
  YAML::Parser parser(input);
  size_t documents = 0;
  while (documents < limit) {
    ContentProbe probe;
    if (!parser.HandleNextDocument(probe) || !probe.hasContent()) break;
    ++documents;
  }
  return documents;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Scalar:
      // Tag "!" marks a quoted scalar: "5" was written as a string, so show it as one.
      return node.Tag() == "!" ? quote(node.Scalar()) : describeText(node.Scalar());
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string describeText(std::string_view text) {
  return looksNumeric(text) ? std::string(text) : quote(text);
}

std::string quote(std::string_view text) {
  const bool cut = text.size() > kMaxQuotedChars;
  if (cut) text = text.substr(0, kMaxQuotedChars);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

std::string fieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string indexPath(std::string_view list, size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

std::optional<Duration> parseDuration(std::string_view text) {
  if (text == "0") return Duration{0};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 60 * 60 * 1000;
  } else {
    return std::nullopt;
  }
  int64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, count);
  if (ec == std::errc::result_out_of_range || count > Duration::max().count() / scale) {
    return Duration::max();
  }
  if (ec != std::errc() || end != text.data() + digits) return std::nullopt;
  return Duration{count * scale};
}

std::string formatDuration(Duration duration) {
  const int64_t ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Result<SocketAddress> parseAddress(std::string_view text) {
  const std::string shape = "expected host:port, got " + quote(text);
  std::string host;
  std::string_view port;
  std::optional<std::string> canonical;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{shape};
    }
    host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    canonical = canonicalHost(host, AF_INET6);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{shape};
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return Error{"expected [IPv6]:port, got " + quote(text)};
    }
    canonical = host == "localhost" ? std::optional<std::string>("127.0.0.1")
                                    : canonicalHost(host, AF_INET);
  }
  if (host.empty() || port.empty()) return Error{shape};
  if (!canonical) {
    return Error{"expected a numeric IPv4 or IPv6 host or localhost, got " + quote(host)};
  }
  uint32_t number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (!isDigits(port) || ec != std::errc() || end != port.data() + port.size() || number < 1 ||
      number > 65535) {
    return Error{"expected a port 1..65535, got " + describeText(port)};
  }
  return SocketAddress{*canonical, static_cast<uint16_t>(number)};
}

bool readAddress(const YAML::Node& node, const std::string& path, Errors& errors,
                 SocketAddress& out) {
  if (!node.IsScalar()) {
    // An unquoted [::1]:80 parses as a YAML flow list or map: say how to write it.
    const bool collection = node.IsMap() || node.IsSequence();
    errors.expected(path, collection ? "host:port (quote IPv6 like \"[::1]:80\")" : "host:port",
                    node);
    return false;
  }
  Result<SocketAddress> address = parseAddress(node.Scalar());
  if (!address) {
    errors.add(path, address.error());
    return false;
  }
  out = std::move(address).value();
  return true;
}

MapReader::MapReader(const YAML::Node& node, std::string path,
                     std::initializer_list<std::string_view> known, Errors& errors)
    : node_(node), path_(std::move(path)), errors_(errors) {
  if (!node.IsDefined() || node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    errors_.expected(path_, "a map", node);
    return;
  }
  is_map_ = true;
  // yaml-cpp keeps repeated keys and lookups see only the first: a repeat is an error.
  std::vector<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      errors_.expected(path_, "field names", entry.first);
      continue;
    }
    const std::string& key = entry.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      errors_.add(fieldPath(path_, key), "duplicate field");
      continue;
    }
    seen.push_back(key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      errors_.add(fieldPath(path_, key), "unknown field");
    }
  }
}

YAML::Node MapReader::get(std::string_view key) const {
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : node_) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

void MapReader::readUint(std::string_view key, uint32_t min, uint32_t max, uint32_t& out) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) return;
  const std::string expected = "an integer " + std::to_string(min) + ".." + std::to_string(max);
  int64_t number = -1;
  if (value.IsScalar()) {
    const std::string& text = value.Scalar();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size() && number >= min && number <= max) {
      out = static_cast<uint32_t>(number);
      return;
    }
  }
  errors_.expected(path(key), expected, value);
}

void MapReader::readDuration(std::string_view key, Duration min, Duration& out) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) return;
  const std::optional<Duration> duration =
      value.IsScalar() ? parseDuration(value.Scalar()) : std::nullopt;
  if (!duration) {
    errors_.expected(path(key), "a duration like 250ms or 5s", value);
  } else if (*duration < min || *duration > kMaxDuration) {
    errors_.expected(path(key), "a duration from " + formatDuration(min) + " to 24h", value);
  } else {
    out = *duration;
  }
}

void MapReader::readAddress(std::string_view key, bool required, SocketAddress& out) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) {
    if (required) errors_.expected(path(key), "host:port", value);
    return;
  }
  yaml::readAddress(value, path(key), errors_, out);
}

void MapReader::readName(std::string_view key, std::string& out) const {
  constexpr std::string_view kExpected = "a name matching [A-Za-z0-9_.-]+";
  std::string text;
  if (!readString(key, true, kExpected, text)) return;
  if (text.empty() || !std::all_of(text.begin(), text.end(), isNameChar)) {
    errors_.expected(path(key), kExpected, get(key));
    return;
  }
  out = std::move(text);
}

bool MapReader::readString(std::string_view key, bool required, std::string_view expected,
                           std::string& out) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined() && !required) return false;
  if (!value.IsScalar()) {
    errors_.expected(path(key), expected, value);
    return false;
  }
  if (!isUtf8(value.Scalar())) {
    errors_.add(path(key), "expected " + std::string(expected) + " in UTF-8, got invalid bytes");
    return false;
  }
  out = value.Scalar();
  return true;
}

std::optional<YAML::Node> MapReader::readNonEmptyList(std::string_view key,
                                                      std::string_view item) const {
  const YAML::Node value = get(key);
  if (value.IsSequence() && value.size() > 0) return value;
  if (value.IsDefined() && !value.IsNull() && !value.IsSequence()) {
    errors_.expected(path(key), "a list", value);
  } else {
    errors_.expected(path(key), "at least one " + std::string(item), value);
  }
  return std::nullopt;
}

// A wildcard host takes the port on every address of its family, so it conflicts with any
// specific address of that family on the same port.
bool addressesConflict(const SocketAddress& a, const SocketAddress& b) {
  if (a.port == 0 || b.port == 0 || a.port != b.port) return false;
  if (a.host == b.host) return true;
  const bool a_v6 = a.host.find(':') != std::string::npos;
  const bool b_v6 = b.host.find(':') != std::string::npos;
  if (a_v6 != b_v6) return false;
  const std::string_view wildcard = a_v6 ? "::" : "0.0.0.0";
  return a.host == wildcard || b.host == wildcard;
}

}  // namespace remora::config::yaml
