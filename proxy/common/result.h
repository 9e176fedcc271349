#pragma once
// Result<T>: a value or an error. Config and control-plane code return these instead of
// throwing; the data plane never throws at all. The error is an Error (one message) unless a
// second argument names another type: config code uses FieldErrors (common/field_error.h).

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace remora {

struct Error {
  std::string message;
};

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // The message of an Error, or the error itself of any other type.
  const auto& error() const {
    if constexpr (std::is_same_v<E, Error>) {
      return std::get<1>(v_).message;
    } else {
      return std::get<1>(v_);
    }
  }

 private:
  std::variant<T, E> v_;
};

// Result<void> stand-in.
template <typename E = Error>
class [[nodiscard]] BasicStatus {
 public:
  BasicStatus() = default;
  BasicStatus(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static BasicStatus okStatus() { return BasicStatus(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const auto& error() const {
    if constexpr (std::is_same_v<E, Error>) {
      return error_.message;
    } else {
      return error_;
    }
  }

 private:
  E error_;
  bool ok_ = true;
};

using Status = BasicStatus<>;

}  // namespace remora
