#pragma once
// ConfigReader: reads one JSON object of a filter's config and keeps the first error, prefixed
// with the exact JSON path of the offending field ("routes[3].match.regex: ..."). Config parsing
// runs once on the main thread; nothing here throws, so a filter's config_new can report every
// problem as a message instead of an exception crossing the C ABI.

#include <remora/sdk/config_util.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace remora::filters {

using Json = nlohmann::json;

// The first error of a whole config parse, shared by every reader of that parse.
struct ConfigErrors {
  std::string first;
  bool failed() const { return !first.empty(); }
  void add(const std::string& path, std::string_view what) {
    if (first.empty())
      first = (path.empty() ? std::string("config") : path) + ": " + std::string(what);
  }
};

using sdk::fieldPath;
using sdk::indexPath;

inline const char* jsonTypeName(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

class ConfigReader {
 public:
  // `json` must outlive the reader. A non-object records an error at `path` right away.
  ConfigReader(const Json& json, std::string path, ConfigErrors& errors)
      : json_(json), path_(std::move(path)), errors_(errors) {
    if (!json_.is_object()) {
      errors_.add(path_, std::string("must be an object, got ") + jsonTypeName(json_));
    }
  }

  bool ok() const { return !errors_.failed(); }
  const std::string& path() const { return path_; }
  std::string pathOf(std::string_view key) const { return fieldPath(path_, key); }
  void fail(std::string_view key, std::string_view what) { errors_.add(pathOf(key), what); }
  void failHere(std::string_view what) { errors_.add(path_, what); }

  bool has(std::string_view key) const { return find(key) != nullptr; }
  const Json* find(std::string_view key) const {
    if (!json_.is_object()) return nullptr;
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
  }

  // Refuses fields the filter does not know, so a typo is an error rather than a silent default.
  void allowOnly(std::initializer_list<std::string_view> known) {
    if (!json_.is_object()) return;
    for (auto it = json_.begin(); it != json_.end(); ++it) {
      bool found = false;
      for (std::string_view k : known) found = found || k == it.key();
      if (!found) errors_.add(pathOf(it.key()), "unknown field");
    }
  }

  std::optional<std::string> string(std::string_view key, bool required = false) {
    const Json* j = find(key);
    if (!j) return missing<std::string>(key, required);
    if (!j->is_string()) return wrongType<std::string>(key, "a string", *j);
    return j->get<std::string>();
  }

  std::optional<bool> boolean(std::string_view key, bool required = false) {
    const Json* j = find(key);
    if (!j) return missing<bool>(key, required);
    if (!j->is_boolean()) return wrongType<bool>(key, "a boolean", *j);
    return j->get<bool>();
  }

  // An integer in [min, max].
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max,
                                 bool required = false) {
    const Json* j = find(key);
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
    const Json* j = find(key);
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
  // `min_ms`. Written as the SDK's parseDuration reads it ("2s", "250ms", "1.5m", or a bare number
  // of seconds), so every filter accepts the same durations.
  std::optional<uint32_t> durationMs(std::string_view key, uint32_t min_ms = 0,
                                     bool required = false) {
    const Json* j = find(key);
    if (!j) return missing<uint32_t>(key, required);
    std::string error;
    std::optional<std::chrono::microseconds> us = sdk::durationField(*j, pathOf(key), error);
    if (!us) {
      errors_.add(pathOf(key), error.substr(error.find(": ") + 2));
      return std::nullopt;
    }
    int64_t ms = (us->count() + 999) / 1000;
    if (ms > std::numeric_limits<uint32_t>::max()) {
      fail(key, "must be at most 4294967295ms, got " + sdk::describeJson(*j));
      return std::nullopt;
    }
    if (ms < min_ms) {
      fail(key, "must be at least " + std::to_string(min_ms) + "ms, got " + sdk::describeJson(*j));
      return std::nullopt;
    }
    return static_cast<uint32_t>(ms);
  }

  // An array field; nullptr (with an error if required) when absent or not an array.
  const Json* array(std::string_view key, bool required = false) {
    const Json* j = find(key);
    if (!j) return missing<const Json*>(key, required).value_or(nullptr);
    if (!j->is_array()) return wrongType<const Json*>(key, "an array", *j).value_or(nullptr);
    return j;
  }

  // An object field; nullptr (with an error if required) when absent or not an object.
  const Json* object(std::string_view key, bool required = false) {
    const Json* j = find(key);
    if (!j) return missing<const Json*>(key, required).value_or(nullptr);
    if (!j->is_object()) return wrongType<const Json*>(key, "an object", *j).value_or(nullptr);
    return j;
  }

 private:
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

  const Json& json_;
  std::string path_;
  ConfigErrors& errors_;
};

}  // namespace remora::filters
