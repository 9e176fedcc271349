#pragma once
// Reading the filter's JSON config block with field paths in every error
// ("jwt.keys[1].alg: must be one of HS256, RS256, ES256"). Main thread, config time only.
//
// The first error wins and later reads become no-ops, so parsing code reads straight through
// and checks once at the end instead of testing every field.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace remora::auth {

class ConfigErrors {
 public:
  void fail(const std::string& path, std::string_view message);
  // For errors that already carry their path ("jwt.keys" + "[2].sha256: ...").
  void failRaw(std::string message);
  bool failed() const { return !first_.empty(); }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// One JSON object at `path`. Reads mark fields as known; finish() refuses the rest, so a typo
// ("audience" for "audiences") is an error rather than a silently ignored setting.
class ObjectReader {
 public:
  ObjectReader(ConfigErrors* errors, const nlohmann::json* value, std::string path);

  bool valid() const { return obj_ != nullptr; }
  bool has(std::string_view key) const;
  std::string path(std::string_view key) const;

  std::string str(std::string_view key, std::string fallback);
  std::optional<std::string> optStr(std::string_view key);
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  bool boolean(std::string_view key, bool fallback);
  // A duration ("250ms", "1s", "2m", or a number of seconds) in [min, max].
  std::chrono::microseconds duration(std::string_view key, std::chrono::microseconds fallback,
                                     std::chrono::microseconds min, std::chrono::microseconds max);
  // A list of non-empty strings; a single string is accepted as a list of one.
  std::vector<std::string> strList(std::string_view key);
  // The raw member (or nullptr when absent), for nested objects and lists.
  const nlohmann::json* raw(std::string_view key);

  void finish();

 private:
  const nlohmann::json* take(std::string_view key);

  ConfigErrors* errors_;
  const nlohmann::json* obj_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace remora::auth
