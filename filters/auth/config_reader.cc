#include "config_reader.h"

#include <remora/sdk/config_util.h>

namespace remora::auth {

using nlohmann::json;

namespace {

std::string formatDuration(std::chrono::microseconds d) {
  int64_t us = d.count();
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace

void ConfigErrors::fail(const std::string& path, std::string_view message) {
  if (first_.empty()) first_ = path + ": " + std::string(message);
}

void ConfigErrors::failRaw(std::string message) {
  if (first_.empty()) first_ = std::move(message);
}

ObjectReader::ObjectReader(ConfigErrors* errors, const json* value, std::string path)
    : errors_(errors), obj_(nullptr), path_(std::move(path)) {
  if (value == nullptr) return;
  if (!value->is_object()) {
    errors_->fail(path_.empty() ? "config" : path_, "must be an object");
    return;
  }
  obj_ = value;
}

bool ObjectReader::has(std::string_view key) const {
  return obj_ != nullptr && obj_->find(key) != obj_->end();
}

std::string ObjectReader::path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const json* ObjectReader::take(std::string_view key) {
  if (obj_ == nullptr) return nullptr;
  seen_.emplace(key);
  auto it = obj_->find(key);
  return it == obj_->end() || it->is_null() ? nullptr : &*it;
}

std::string ObjectReader::str(std::string_view key, std::string fallback) {
  auto v = optStr(key);
  return v ? std::move(*v) : std::move(fallback);
}

std::optional<std::string> ObjectReader::optStr(std::string_view key) {
  const json* v = take(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    errors_->fail(path(key), "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

int64_t ObjectReader::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const json* v = take(key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) {
    errors_->fail(path(key), "must be an integer");
    return fallback;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    errors_->fail(path(key), "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                 "], got " + std::to_string(n));
    return fallback;
  }
  return n;
}

bool ObjectReader::boolean(std::string_view key, bool fallback) {
  const json* v = take(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    errors_->fail(path(key), "must be true or false");
    return fallback;
  }
  return v->get<bool>();
}

std::chrono::microseconds ObjectReader::duration(std::string_view key,
                                                 std::chrono::microseconds fallback,
                                                 std::chrono::microseconds min,
                                                 std::chrono::microseconds max) {
  const json* v = take(key);
  if (v == nullptr) return fallback;
  std::string error;
  auto d = sdk::durationField(*v, path(key), error);
  if (!d) {
    errors_->failRaw(error);
    return fallback;
  }
  if (*d < min || *d > max) {
    errors_->fail(path(key), "must be between " + formatDuration(min) + " and " +
                                 formatDuration(max) + ", got " + sdk::describeJson(*v));
    return fallback;
  }
  return *d;
}

std::vector<std::string> ObjectReader::strList(std::string_view key) {
  const json* v = take(key);
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->is_string()) {
    if (v->get_ref<const std::string&>().empty()) errors_->fail(path(key), "must not be empty");
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) {
    errors_->fail(path(key), "must be a list of strings");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    std::string where = path(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      errors_->fail(where, "must be a non-empty string");
      continue;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

const json* ObjectReader::raw(std::string_view key) {
  return take(key);
}

void ObjectReader::finish() {
  if (obj_ == nullptr) return;
  for (auto it = obj_->begin(); it != obj_->end(); ++it) {
    if (seen_.find(it.key()) == seen_.end()) errors_->fail(path(it.key()), "unknown field");
  }
}

}  // namespace remora::auth
