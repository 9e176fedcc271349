#pragma once
// Result<T>: a value or an error message, for config-time code (parsing keys, files, documents).
// A filter builds against the SDK and the C ABI only, so it can also build outside this repository
// against an installed Remora; this is the SDK's own small type, not the kernel's.
//
//   sdk::Result<Key> parseKey(std::string_view text) {
//     if (text.empty()) return sdk::Error{"empty key"};
//     return Key{...};
//   }

#include <string>
#include <utility>
#include <variant>

namespace remora::sdk {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // The message; only valid when !ok().
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace remora::sdk
