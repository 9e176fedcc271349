#pragma once
// HeaderMap: the headers of one message, stored in one buffer so a stream reuses its capacity
// from request to request and a message costs no allocation after warm-up.
//
// Names are classified once into a HeaderToken when the codec finishes parsing them, so the
// request path compares small integers instead of strings (h2o and Envoy do the same).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::http {

enum class HeaderToken : uint8_t {
  kOther,
  kConnection,
  kContentLength,
  kExpect,
  kHost,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kTrailer,
  kTransferEncoding,
  kUpgrade,
  kXForwardedFor,
  kXForwardedProto,
  kXRequestId,
  kCount,
};

// Classifies a header name (case-insensitive).
HeaderToken classifyHeader(std::string_view name);

// ASCII case-insensitive equality.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

class HeaderMap {
 public:
  struct Entry {
    uint32_t name_off;
    uint32_t name_len;
    uint32_t value_off;
    uint32_t value_len;
    HeaderToken token;
    bool removed;
  };

  void clear() {
    buf_.clear();
    entries_.clear();
    counts_ = {};
  }
  size_t size() const { return entries_.size(); }
  size_t byteSize() const { return buf_.size(); }

  // Parse-time building: a header arrives as name pieces then value pieces.
  void beginName() {
    entries_.push_back({uint32_t(buf_.size()), 0, 0, 0, HeaderToken::kOther, false});
  }
  void appendName(const char* p, size_t n) {
    buf_.append(p, n);
    entries_.back().name_len += uint32_t(n);
  }
  void beginValue() { entries_.back().value_off = uint32_t(buf_.size()); }
  void appendValue(const char* p, size_t n) {
    buf_.append(p, n);
    entries_.back().value_len += uint32_t(n);
  }
  // Classifies the last header's name; returns its token.
  HeaderToken finishLast();

  void add(std::string_view name, std::string_view value);
  // As add(), for a name whose token the caller already knows (skips classification).
  void add(HeaderToken token, std::string_view name, std::string_view value);
  // Replaces every header of that name with one value.
  void set(std::string_view name, std::string_view value);
  // Removes every header of that name; returns how many were removed.
  size_t remove(std::string_view name);
  void removeToken(HeaderToken token);
  std::optional<std::string_view> get(std::string_view name) const;
  std::optional<std::string_view> get(HeaderToken token) const;
  // Live headers with this token; O(1), kept by every mutation.
  size_t count(HeaderToken token) const { return counts_[size_t(token)]; }

  std::string_view name(const Entry& e) const { return {buf_.data() + e.name_off, e.name_len}; }
  std::string_view value(const Entry& e) const { return {buf_.data() + e.value_off, e.value_len}; }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& mutableEntries() { return entries_; }

  // Appends "name: value\r\n" for every live header.
  void serialize(std::string& out) const;

 private:
  std::string buf_;
  std::vector<Entry> entries_;
  std::array<uint16_t, size_t(HeaderToken::kCount)> counts_{};
};

// True when every byte is a token character (RFC 9110 tchar).
bool isValidHeaderName(std::string_view name);
// True when no byte is a control character other than HTAB (obs-text allowed).
bool isValidHeaderValue(std::string_view value);

// True when the comma-separated header value lists `token` (case-insensitive).
bool headerListContains(std::string_view value, std::string_view token);

}  // namespace remora::http
