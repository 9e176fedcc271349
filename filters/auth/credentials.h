#pragma once
// Reading credentials off a request. RequestView is the little the decision code needs from a
// stream, so that code is tested without a host; the filter adapts the SDK's stream to it.

#include <optional>
#include <string>
#include <string_view>

#include "auth_config.h"

namespace remora::auth {

class RequestView {
 public:
  virtual ~RequestView() = default;
  // First value of a request header; `name` is lower case.
  virtual std::optional<std::string_view> header(std::string_view name) const = 0;
  virtual std::string_view method() const = 0;
  virtual std::string_view target() const = 0;     // path and query, as received
  virtual std::string_view authority() const = 0;  // Host
  // The verified client certificate's identity on an mTLS connection, else nullopt.
  virtual std::optional<std::string_view> peerIdentity() const { return std::nullopt; }
};

// The credential `source` names, or nullopt when the request carries none. A header holding a
// different scheme ("Basic ..." where "Bearer " is expected) counts as absent, so the query
// parameter is still tried; an empty value after the scheme is returned as "" (present, invalid).
std::optional<std::string> extractCredential(const CredentialSource& source,
                                             const RequestView& request);

}  // namespace remora::auth
