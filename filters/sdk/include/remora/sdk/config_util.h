#pragma once
// Helpers for Config::create: field paths in error messages, unknown-field checks, durations.
//
// Remora's config errors name the exact field and what was expected:
//   rules[0].burst: must be >= 1, got -1
// The kernel prefixes the filter's own position (listeners[0].filters[2]...), so paths here are
// relative to the filter's config block. Main thread only (config time), exceptions allowed.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace remora::sdk {

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
inline std::string describeJson(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Checks that `v` is an object whose keys are all in `allowed`. A typo in a config is an error,
// not a silently ignored field.
inline bool checkObject(const nlohmann::json& v, std::string_view path,
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

// Reads a duration field given as a string ("1s") or a number of seconds.
inline std::optional<std::chrono::microseconds> durationField(const nlohmann::json& v,
                                                              std::string_view path,
                                                              std::string& error) {
  std::optional<std::chrono::microseconds> d;
  if (v.is_string()) {
    d = parseDuration(v.get<std::string>());
  } else if (v.is_number() && v.get<double>() >= 0) {
    d = std::chrono::microseconds(static_cast<int64_t>(v.get<double>() * 1e6 + 0.5));
  }
  if (!d) {
    error =
        std::string(path) + ": must be a duration like \"1s\" or \"250ms\", got " + describeJson(v);
  }
  return d;
}

}  // namespace remora::sdk
