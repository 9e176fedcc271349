#pragma once
// Building blocks of the config loader: scalar parsers (durations, addresses) and typed field
// readers that check one YAML node against the schema. Every problem becomes one FieldError
//   {<path>, "expected <what the schema wants>, got <what the YAML holds>"}
// and reading goes on, so a single load reports every error in the file. Main thread only.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/field_error.h"
#include "common/result.h"
#include "config/config.h"

namespace remora::config::yaml {

// The longest duration any field accepts: beyond a day a timeout is a typo, and the cap keeps
// every value far from overflowing when converted to timevals or nanoseconds.
inline constexpr Duration kMaxDuration{24 * 60 * 60 * 1000};

// Collects the errors of one load, in the order they were found.
class Errors {
 public:
  void add(std::string_view path, std::string_view what);
  // "<path>: expected <expected>, got <describe(found)>".
  void expected(std::string_view path, std::string_view expected, const YAML::Node& found);
  bool empty() const { return errors_.empty(); }
  const FieldErrors& list() const { return errors_; }
  FieldErrors take() { return std::move(errors_); }

 private:
  FieldErrors errors_;
};

// The number of YAML documents in `text`, counting at most `limit` and stopping at the first
// empty one. Throws YAML::ParserException on a syntax error. This replaces YAML::LoadAll, which
// in yaml-cpp 0.7 loops forever, allocating until the process dies, on input as small as a stray
// "," (yaml-cpp issue #1040; the upstream fix also stops at the first empty document).
size_t countDocuments(const std::string& text, size_t limit);

// How a node reads in an error: nothing (absent), null, a map, a list, an empty list, a number
// as written (-1, 1.5) or any other scalar quoted ("fast").
std::string describe(const YAML::Node& node);
// A scalar's text for an error: numbers as written, anything else quoted and escaped.
std::string describeText(std::string_view text);
std::string quote(std::string_view text);

std::string fieldPath(std::string_view parent, std::string_view key);  // "a.b", or "b" at root
std::string indexPath(std::string_view list, size_t index);            // "a[3]"

// "250ms", "5s", "1m", "2h", or "0" for zero. Nullopt when the text is not of that shape; a
// value too large for a Duration saturates at Duration::max() so range checks still catch it.
std::optional<Duration> parseDuration(std::string_view text);
// Whole seconds as "<n>s", anything else as "<n>ms"; parseDuration reads it back exactly.
std::string formatDuration(Duration duration);

// "host:port" with a numeric IPv4 host, "[IPv6]:port", or "localhost:port" (→ 127.0.0.1);
// port 1..65535. Hosts come back in canonical form so equal addresses compare equal. The error
// is the "expected ..., got ..." part of a config error.
Result<SocketAddress> parseAddress(std::string_view text);

// A wildcard host takes the port on every address of its family, so it conflicts with any
// specific address of that family on the same port. Port 0 (any free port) conflicts with none.
bool addressesConflict(const SocketAddress& a, const SocketAddress& b);

// Reads one address node (a map field or a list entry) into `out`; false after reporting an error.
bool readAddress(const YAML::Node& node, const std::string& path, Errors& errors,
                 SocketAddress& out);

// Reads the fields of one YAML map. The constructor reports a node that is not a map and every
// unknown or repeated key; an absent or null node reads as an empty map, so a section whose
// fields are all commented out keeps its defaults. Each read* leaves `out` untouched when the
// field is absent or invalid (the error is recorded), so defaults need no extra code.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, std::initializer_list<std::string_view> known,
            Errors& errors);

  bool isMap() const { return is_map_; }
  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return fieldPath(path_, key); }
  // The field's node; undefined when absent (or when this node is not a map).
  YAML::Node get(std::string_view key) const;
  Errors& errors() const { return errors_; }

  void readUint(std::string_view key, uint32_t min, uint32_t max, uint32_t& out) const;
  void readDuration(std::string_view key, Duration min, Duration& out) const;
  void readAddress(std::string_view key, bool required, SocketAddress& out) const;
  // A required name of [A-Za-z0-9_.-]+: names end up in metric labels and admin URLs.
  void readName(std::string_view key, std::string& out) const;
  // A scalar string; `expected` words the error for a missing or non-scalar value. Returns
  // whether `out` was set.
  bool readString(std::string_view key, bool required, std::string_view expected,
                  std::string& out) const;

  // One of a fixed set of words, e.g. lb_policy.
  template <typename T>
  void readChoice(std::string_view key, std::initializer_list<std::pair<std::string_view, T>> words,
                  T& out) const {
    std::string expected = "one of ";
    bool first = true;
    for (const auto& word : words) {
      if (!first) expected += ", ";
      expected += word.first;
      first = false;
    }
    std::string text;
    if (!readString(key, false, expected, text)) return;
    for (const auto& [word, value] : words) {
      if (word == text) {
        out = value;
        return;
      }
    }
    errors_.expected(path(key), expected, get(key));
  }

  // A required list of at least one <item>. Returns it, or nullopt after reporting a value that
  // is absent, null, empty ("expected at least one <item>") or not a list ("expected a list").
  std::optional<YAML::Node> readNonEmptyList(std::string_view key, std::string_view item) const;

 private:
  YAML::Node node_;
  std::string path_;
  Errors& errors_;
  bool is_map_ = false;
};

}  // namespace remora::config::yaml
