#pragma once
// Small text helpers of the demo upstream: the filler block for /bytes, reason phrases, and
// the parsing of numbers and query parameters in request targets.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace remora::demo {

// /bytes bodies are references to one static block of 'x', so no body is ever allocated.
constexpr size_t kPiece = 64 * 1024;
const std::array<char, kPiece>& xBlock();

// "OK" for 200 and so on; "Status" for codes without a known phrase.
const char* reasonPhrase(int status);

// The whole of `s` as a decimal number; nullopt when empty, not all digits, or too large.
std::optional<uint64_t> parseNumber(std::string_view s);

// Whether the query string ("a=1&b=2") holds exactly `param` ("b=2") as one of its parts.
bool hasQueryParam(std::string_view query, std::string_view param);

}  // namespace remora::demo
