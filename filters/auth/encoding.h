#pragma once
// Byte encodings JWT and API keys need: base64url (JWS segments, JWK members), standard base64
// (HS256 secrets in config) and hex (API key digests). Pure functions, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace remora::auth {

// RFC 4648 §5 without padding, as JWS compact serialization requires (RFC 7515 §2). Any '=' or
// byte outside the alphabet, or an impossible length, yields nullopt.
std::optional<std::string> base64UrlDecode(std::string_view in);
std::string base64UrlEncode(std::string_view in);

// Standard or URL-safe base64 with optional padding, for secrets written by people.
std::optional<std::string> base64DecodeLenient(std::string_view in);

// Lower-case hex of `in`.
std::string toHex(std::string_view in);
// Decodes hex (either case); nullopt on odd length or a non-hex byte.
std::optional<std::string> fromHex(std::string_view in);

}  // namespace remora::auth
