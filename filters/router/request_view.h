#pragma once
// RequestView: the request facts routing reads. The filter adapts the host's stream to it and the
// unit tests use a plain struct, so matching and rewriting are tested without a kernel.

#include <optional>
#include <string_view>

namespace remora::router {

class RequestView {
 public:
  virtual ~RequestView() = default;
  virtual std::string_view method() const = 0;
  // The request target: path and query, e.g. "/api/users?id=7".
  virtual std::string_view target() const = 0;
  // The Host header (or :authority), possibly with a port.
  virtual std::string_view authority() const = 0;
  // The first value of the header named `lower_name` (lower-case), or nullopt when absent.
  virtual std::optional<std::string_view> header(std::string_view lower_name) const = 0;
  // The connection's original destination ("10.0.0.7:8080", "[fd00::7]:80") on a listener with
  // `original_dst: true` (stream metadata "remora.original_dst"), or nullopt.
  virtual std::optional<std::string_view> originalDst() const { return std::nullopt; }
};

// The path part of a request target, without the query.
inline std::string_view pathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// The query of a request target without the '?', empty when there is none.
inline std::string_view queryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace remora::router
