#pragma once
// Reading a filter's JSON config block: every error names the exact field and what was expected,
//
//   routes[3].match.regex: invalid regex "(": missing ): (
//   rules[0].burst: must be a number >= 1, got -1
//
// The kernel prefixes the filter's own position (listeners[0].filters[2]...), so paths here are
// relative to the filter's config block; the top is "" and is reported as "config". Main thread,
// config time only.
//
// Three layers, use what fits:
//   - path and value helpers (fieldPath, indexPath, describeJson, parseDuration, durationField,
//     checkObject) for code that builds its own messages;
//   - ConfigErrors: the first error of one whole parse, shared by every reader of that parse;
//   - ConfigReader: one JSON object at a path. Reads never throw and, once an error is recorded,
//     later errors are dropped, so parsing code reads straight through and checks once at the end.
//
//   sdk::ConfigErrors errors;
//   sdk::ConfigReader r(json, "", errors);
//   r.allowOnly({"cluster", "timeout"});
//   std::string cluster = r.string("cluster", /*required=*/true).value_or("");
//   uint32_t timeout_ms = r.durationMs("timeout", 1).value_or(1000);
//   if (errors.failed()) { error = errors.first(); return nullptr; }

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remora::sdk {

using Json = nlohmann::json;

// --- Paths and values ---------------------------------------------------------------------------

// "base.key", or "key" at the top.
inline std::string fieldPath(std::string_view base, std::string_view key) {
  std::string out(base);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

// "base[i]".
inline std::string indexPath(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// A short rendering of a JSON value for "got ..." in messages (at most ~60 characters).
inline std::string describeJson(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// The kind of a JSON value for "got ..." in messages: "null", "a boolean", "a number", "a string",
// "an array" or "an object".
inline const char* jsonTypeName(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

// Checks that `v` is an object whose keys are all in `allowed`. A typo in a config is an error,
// not a silently ignored field. Messages: "<path>: must be an object, got <value>",
// "<path>.<key>: unknown field".
inline bool checkObject(const Json& v, std::string_view path,
                        std::initializer_list<std::string_view> allowed, std::string& error) {
  if (!v.is_object()) {
    error = (path.empty() ? std::string("config") : std::string(path)) +
            ": must be an object, got " + describeJson(v);
    return false;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      error = fieldPath(path, it.key()) + ": unknown field";
      return false;
    }
  }
  return true;
}

// Parses a duration: a number with a unit ("250ms", "1s", "1.5s", "2m", "1h", "500us") or a bare
// number of seconds. Nullopt when malformed or negative.
inline std::optional<std::chrono::microseconds> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  double value = 0;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value += (text[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) return std::nullopt;
  std::string_view unit = text.substr(i);
  double us_per_unit = 0;
  if (unit.empty() || unit == "s") {
    us_per_unit = 1e6;
  } else if (unit == "ms") {
    us_per_unit = 1e3;
  } else if (unit == "us") {
    us_per_unit = 1;
  } else if (unit == "m") {
    us_per_unit = 60e6;
  } else if (unit == "h") {
    us_per_unit = 3600e6;
  } else {
    return std::nullopt;
  }
  double us = value * us_per_unit;
  if (us > 9.2e18) return std::nullopt;
  return std::chrono::microseconds(static_cast<int64_t>(us + 0.5));
}

namespace detail {

// A duration value given as a string ("1s") or a number of seconds; nullopt otherwise.
inline std::optional<std::chrono::microseconds> durationValue(const Json& v) {
  if (v.is_string()) return parseDuration(v.get<std::string>());
  if (v.is_number() && v.get<double>() >= 0) {
    return std::chrono::microseconds(static_cast<int64_t>(v.get<double>() * 1e6 + 0.5));
  }
  return std::nullopt;
}

inline std::string notADuration(const Json& v) {
  return "must be a duration like \"1s\" or \"250ms\", got " + describeJson(v);
}

// "2s", "250ms" or "7us": the largest unit that divides `d`.
inline std::string durationText(std::chrono::microseconds d) {
  int64_t us = d.count();
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace detail

// Reads a duration field given as a string ("1s") or a number of seconds. On failure `error` is
// "<path>: must be a duration like "1s" or "250ms", got <value>".
inline std::optional<std::chrono::microseconds> durationField(const Json& v, std::string_view path,
                                                              std::string& error) {
  std::optional<std::chrono::microseconds> d = detail::durationValue(v);
  if (!d) error = std::string(path) + ": " + detail::notADuration(v);
  return d;
}

// --- ConfigErrors -------------------------------------------------------------------------------

// The first error of a whole config parse, shared by every reader of that parse.
class ConfigErrors {
 public:
  // Records "<path>: <what>" ("config: <what>" when `path` is the top, "") unless an error is
  // already recorded.
  void fail(std::string_view path, std::string_view what) {
    if (first_.empty()) {
      first_ =
          (path.empty() ? std::string("config") : std::string(path)) + ": " + std::string(what);
    }
  }
  // For a message that already carries its path ("jwt.keys" + "[2].sha256: ...").
  void failRaw(std::string message) {
    if (first_.empty()) first_ = std::move(message);
  }
  bool failed() const { return !first_.empty(); }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// --- ConfigReader -------------------------------------------------------------------------------

// One JSON object of a filter's config at `path`. Unknown fields are refused, either up front
// (allowOnly) or after reading (finish: every field no read asked for), so a typo ("audience" for
// "audiences") is an error rather than a silently ignored setting.
//
// Two families of reads, each with its own wording:
//   - typed reads (string, boolean, integer, number, durationMs, array, object) return nullopt
//     (or nullptr) when the field is absent, "is required" when it must be there, and name what
//     was found: "must be a boolean, got a string". A null value is a value of the wrong type.
//   - reads with a fallback (stringOr, optionalString, integerOr, booleanOr, durationOr,
//     stringList, raw) treat an absent or null field alike and say only what was expected:
//     "must be a string", "must be in [0, 100], got 200".
class ConfigReader {
 public:
  // Reads `json` (which must outlive the reader). A non-object records
  // "<path>: must be an object, got <kind>" right away and the reader then reads nothing.
  ConfigReader(const Json& json, std::string path, ConfigErrors& errors)
      : errors_(&errors), path_(std::move(path)) {
    if (json.is_object()) {
      obj_ = &json;
    } else {
      errors_->fail(path_, std::string("must be an object, got ") + jsonTypeName(json));
    }
  }

  // An optional section: `json` nullptr (absent) reads nothing and records nothing; a non-object
  // records "<path>: must be an object". valid() tells whether there is an object to read.
  static ConfigReader section(const Json* json, std::string path, ConfigErrors& errors) {
    ConfigReader r(errors, std::move(path));
    if (json == nullptr) return r;
    if (json->is_object()) {
      r.obj_ = json;
    } else {
      errors.fail(r.path_, "must be an object");
    }
    return r;
  }

  // There is an object to read (it was present and is an object).
  bool valid() const { return obj_ != nullptr; }
  // No error recorded yet in the whole parse (this reader's or another's).
  bool ok() const { return !errors_->failed(); }
  ConfigErrors& errors() { return *errors_; }

  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view key) const { return fieldPath(path_, key); }
  // Records "<path>.<key>: <what>" / "<path>: <what>".
  void fail(std::string_view key, std::string_view what) { errors_->fail(pathOf(key), what); }
  void failHere(std::string_view what) { errors_->fail(path_, what); }

  // The field is present (null included).
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The field (null included), or nullptr when absent. Does not count as reading it.
  const Json* find(std::string_view key) const {
    if (obj_ == nullptr) return nullptr;
    auto it = obj_->find(key);
    return it == obj_->end() ? nullptr : &*it;
  }

  // Refuses every field not in `known`: "<path>.<key>: unknown field".
  void allowOnly(std::initializer_list<std::string_view> known) {
    if (obj_ == nullptr) return;
    for (auto it = obj_->begin(); it != obj_->end(); ++it) {
      bool found = false;
      for (std::string_view k : known) found = found || k == it.key();
      if (!found) errors_->fail(pathOf(it.key()), "unknown field");
    }
  }
  // Refuses every field no read of this reader asked for: "<path>.<key>: unknown field".
  void finish() {
    if (obj_ == nullptr) return;
    for (auto it = obj_->begin(); it != obj_->end(); ++it) {
      if (seen_.find(it.key()) == seen_.end()) errors_->fail(pathOf(it.key()), "unknown field");
    }
  }

  // --- Typed reads ------------------------------------------------------------------------------

  std::optional<std::string> string(std::string_view key, bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<std::string>(key, required);
    if (!j->is_string()) return wrongType<std::string>(key, "a string", *j);
    return j->get<std::string>();
  }

  std::optional<bool> boolean(std::string_view key, bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<bool>(key, required);
    if (!j->is_boolean()) return wrongType<bool>(key, "a boolean", *j);
    return j->get<bool>();
  }

  // An integer in [min, max]: "must be between <min> and <max>, got <n>" (or "must be >= <min>"
  // when there is no upper bound).
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max,
                                 bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<int64_t>(key, required);
    if (!j->is_number_integer()) return wrongType<int64_t>(key, "an integer", *j);
    if (j->is_number_unsigned() && j->get<uint64_t>() > static_cast<uint64_t>(max)) {
      return outOfRange<int64_t>(key, min, max, j->dump());
    }
    int64_t v = j->get<int64_t>();
    if (v < min || v > max) return outOfRange<int64_t>(key, min, max, std::to_string(v));
    return v;
  }

  // A number in [min, max] (integers accepted).
  std::optional<double> number(std::string_view key, double min, double max,
                               bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<double>(key, required);
    if (!j->is_number()) return wrongType<double>(key, "a number", *j);
    double v = j->get<double>();
    if (!(v >= min && v <= max)) {
      fail(key, "must be between " + Json(min).dump() + " and " + Json(max).dump() + ", got " +
                    j->dump());
      return std::nullopt;
    }
    return v;
  }

  // A duration in whole milliseconds (rounded up, so "500us" is 1ms, never 0), at least
  // `min_ms`. Written as parseDuration reads it ("2s", "250ms", "1.5m", or a bare number of
  // seconds), so every filter accepts the same durations.
  std::optional<uint32_t> durationMs(std::string_view key, uint32_t min_ms = 0,
                                     bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<uint32_t>(key, required);
    std::optional<std::chrono::microseconds> us = detail::durationValue(*j);
    if (!us) {
      fail(key, detail::notADuration(*j));
      return std::nullopt;
    }
    int64_t ms = (us->count() + 999) / 1000;
    if (ms > std::numeric_limits<uint32_t>::max()) {
      fail(key, "must be at most 4294967295ms, got " + describeJson(*j));
      return std::nullopt;
    }
    if (ms < min_ms) {
      fail(key, "must be at least " + std::to_string(min_ms) + "ms, got " + describeJson(*j));
      return std::nullopt;
    }
    return static_cast<uint32_t>(ms);
  }

  // An array field; nullptr (with an error if required) when absent or not an array.
  const Json* array(std::string_view key, bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<const Json*>(key, required).value_or(nullptr);
    if (!j->is_array()) return wrongType<const Json*>(key, "an array", *j).value_or(nullptr);
    return j;
  }

  // An object field; nullptr (with an error if required) when absent or not an object.
  const Json* object(std::string_view key, bool required = false) {
    const Json* j = member(key);
    if (!j) return missing<const Json*>(key, required).value_or(nullptr);
    if (!j->is_object()) return wrongType<const Json*>(key, "an object", *j).value_or(nullptr);
    return j;
  }

  // --- Reads with a fallback (absent and null alike) ---------------------------------------------

  std::string stringOr(std::string_view key, std::string fallback) {
    auto v = optionalString(key);
    return v ? std::move(*v) : std::move(fallback);
  }

  // The string, or nullopt when absent or null; anything else records "must be a string".
  std::optional<std::string> optionalString(std::string_view key) {
    const Json* v = raw(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      fail(key, "must be a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  // An integer in [min, max]: "must be an integer", "must be in [<min>, <max>], got <n>".
  int64_t integerOr(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
    const Json* v = raw(key);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer()) {
      fail(key, "must be an integer");
      return fallback;
    }
    int64_t n = v->get<int64_t>();
    if (n < min || n > max) {
      fail(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                    std::to_string(n));
      return fallback;
    }
    return n;
  }

  bool booleanOr(std::string_view key, bool fallback) {
    const Json* v = raw(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) {
      fail(key, "must be true or false");
      return fallback;
    }
    return v->get<bool>();
  }

  // A duration ("250ms", "1s", "2m", or a number of seconds) in [min, max]:
  // "must be between 0s and 3600s, got "2h"".
  std::chrono::microseconds durationOr(std::string_view key, std::chrono::microseconds fallback,
                                       std::chrono::microseconds min,
                                       std::chrono::microseconds max) {
    const Json* v = raw(key);
    if (v == nullptr) return fallback;
    std::optional<std::chrono::microseconds> d = detail::durationValue(*v);
    if (!d) {
      fail(key, detail::notADuration(*v));
      return fallback;
    }
    if (*d < min || *d > max) {
      fail(key, "must be between " + detail::durationText(min) + " and " +
                    detail::durationText(max) + ", got " + describeJson(*v));
      return fallback;
    }
    return *d;
  }

  // A list of non-empty strings; a single string is accepted as a list of one. Empty when
  // absent or null.
  std::vector<std::string> stringList(std::string_view key) {
    const Json* v = raw(key);
    std::vector<std::string> out;
    if (v == nullptr) return out;
    if (v->is_string()) {
      if (v->get_ref<const std::string&>().empty()) fail(key, "must not be empty");
      out.push_back(v->get<std::string>());
      return out;
    }
    if (!v->is_array()) {
      fail(key, "must be a list of strings");
      return out;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& item = (*v)[i];
      if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
        errors_->fail(indexPath(pathOf(key), i), "must be a non-empty string");
        continue;
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  // The field as it is, for nested objects and lists; nullptr when absent or null. Counts as
  // reading it.
  const Json* raw(std::string_view key) {
    const Json* j = member(key);
    return j == nullptr || j->is_null() ? nullptr : j;
  }

 private:
  ConfigReader(ConfigErrors& errors, std::string path) : errors_(&errors), path_(std::move(path)) {}

  // find(), marking the field as read for finish().
  const Json* member(std::string_view key) {
    if (obj_ == nullptr) return nullptr;
    seen_.emplace(key);
    return find(key);
  }

  template <typename T>
  std::optional<T> missing(std::string_view key, bool required) {
    if (required) fail(key, "is required");
    return std::nullopt;
  }
  template <typename T>
  std::optional<T> wrongType(std::string_view key, const char* expected, const Json& got) {
    fail(key, std::string("must be ") + expected + ", got " + jsonTypeName(got));
    return std::nullopt;
  }
  template <typename T>
  std::optional<T> outOfRange(std::string_view key, int64_t min, int64_t max,
                              const std::string& got) {
    if (max == std::numeric_limits<int64_t>::max()) {
      fail(key, "must be >= " + std::to_string(min) + ", got " + got);
    } else {
      fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                    ", got " + got);
    }
    return std::nullopt;
  }

  ConfigErrors* errors_;
  const Json* obj_ = nullptr;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace remora::sdk
