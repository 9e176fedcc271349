#include "text.h"

#include <charconv>
#include <utility>

namespace remora::demo {

const std::array<char, kPiece>& xBlock() {
  static const std::array<char, kPiece> block = [] {
    std::array<char, kPiece> b;
    b.fill('x');
    return b;
  }();
  return block;
}

const char* reasonPhrase(int status) {
  static constexpr std::pair<int, const char*> kPhrases[] = {{100, "Continue"},
                                                             {101, "Switching Protocols"},
                                                             {200, "OK"},
                                                             {201, "Created"},
                                                             {204, "No Content"},
                                                             {301, "Moved Permanently"},
                                                             {302, "Found"},
                                                             {304, "Not Modified"},
                                                             {400, "Bad Request"},
                                                             {401, "Unauthorized"},
                                                             {403, "Forbidden"},
                                                             {404, "Not Found"},
                                                             {408, "Request Timeout"},
                                                             {413, "Content Too Large"},
                                                             {426, "Upgrade Required"},
                                                             {429, "Too Many Requests"},
                                                             {500, "Internal Server Error"},
                                                             {502, "Bad Gateway"},
                                                             {503, "Service Unavailable"},
                                                             {504, "Gateway Timeout"}};
  for (const auto& [code, phrase] : kPhrases) {
    if (code == status) return phrase;
  }
  return "Status";
}

std::optional<uint64_t> parseNumber(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool hasQueryParam(std::string_view query, std::string_view param) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    if (query.substr(0, amp) == param) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

}  // namespace remora::demo
