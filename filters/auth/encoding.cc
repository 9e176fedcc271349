#include "encoding.h"

#include <remora/sdk/query.h>

#include <array>

namespace remora::auth {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// -1 for bytes outside the alphabet. `url` picks '-' '_' (base64url) vs '+' '/' (base64); the
// lenient decoder accepts both.
constexpr std::array<int8_t, 256> makeTable(bool url, bool std) {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 62; ++i) t[static_cast<uint8_t>(kUrlAlphabet[i])] = static_cast<int8_t>(i);
  if (url) {
    t['-'] = 62;
    t['_'] = 63;
  }
  if (std) {
    t['+'] = 62;
    t['/'] = 63;
  }
  return t;
}
constexpr auto kUrlTable = makeTable(true, false);
constexpr auto kAnyTable = makeTable(true, true);

std::optional<std::string> decodeWith(std::string_view in, const std::array<int8_t, 256>& table) {
  // A trailing group of one character carries fewer than 8 bits: never valid.
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int8_t v = table[static_cast<uint8_t>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, so every input has exactly one accepted encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> base64UrlDecode(std::string_view in) {
  return decodeWith(in, kUrlTable);
}

std::string base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kUrlAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kUrlAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> base64DecodeLenient(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  return decodeWith(in, kAnyTable);
}

std::string toHex(std::string_view in) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (char c : in) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::optional<std::string> fromHex(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 2);
  for (size_t i = 0; i < in.size(); i += 2) {
    int hi = sdk::hexDigitValue(in[i]);
    int lo = sdk::hexDigitValue(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

}  // namespace remora::auth
