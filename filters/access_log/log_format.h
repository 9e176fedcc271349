#pragma once
// Access log line formats: an Envoy-style text template and a fixed JSON object.
//
// Both render on the worker in on_log, from what the host reports about the finished stream; the
// line is then handed to the writer thread (log_writer.h).

#include <remora/sdk/stream.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::filters::access_log {

// Envoy's default format without its Envoy-only headers.
inline constexpr std::string_view kDefaultTextFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
    "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ_ID%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"";

// Metadata keys the JSON format reads (left by other filters or the kernel).
inline constexpr std::string_view kPrincipalKey = "principal";
inline constexpr std::string_view kChainKey = "remora.chain";
inline constexpr std::string_view kPeerIdentityKey = "remora.peer.identity";
inline constexpr std::string_view kPeerCertKey = "remora.peer.cert_sha256";
// The request target as the client sent it, before the kernel normalized the path.
inline constexpr std::string_view kOriginalPathKey = "remora.original_path";
// Set by the kernel when it speaks more than HTTP/1.1; %PROTOCOL% falls back to "HTTP/1.1".
inline constexpr std::string_view kProtocolKey = "remora.protocol";

// A parsed text template: literals and %COMMAND(arg):max% operators.
class TextFormat {
 public:
  // Parses `format`; nullopt with `error` ("unknown command %FOO% at offset 7") when malformed.
  static std::optional<TextFormat> parse(std::string_view format, std::string& error);

  // Appends one line (without the trailing newline) to `out`. `now_us` is the wall clock at
  // log time, for %DURATION%.
  void render(const sdk::Stream& s, uint64_t now_us, std::string& out) const;

 private:
  enum class Op {
    kLiteral,
    kStartTime,
    kRequestHeader,
    kResponseHeader,
    kProtocol,
    kResponseCode,
    kBytesReceived,
    kBytesSent,
    kDuration,
    kUpstreamHost,
    kResponseFlags,
    kRequestId,
    kDownstreamRemoteAddress,
    kDynamicMetadata,
    kOriginalPath,
  };
  struct Token {
    Op op;
    std::string arg;     // the literal, header name, or metadata key
    std::string alt;     // REQ(X?Y): the fallback header
    size_t max_len = 0;  // :N truncation, 0 = none
  };

  static std::optional<Token> parseCommand(std::string_view name, std::optional<std::string> arg,
                                           std::string& error);
  std::optional<std::string_view> header(const sdk::Stream& s, sdk::HeaderKind kind,
                                         std::string_view name) const;

  std::vector<Token> tokens_;
};

// Appends the JSON line (without newline): time, method, path, status, bytes_in, bytes_out,
// duration_ms, upstream, flags, request_id, principal and, when set, chain.
void renderJson(const sdk::Stream& s, uint64_t now_us, std::string& out);

// Helpers shared by both formats (exposed for tests).
void appendTime(std::string& out, uint64_t unix_us);  // 2023-11-14T22:13:20.123Z
void appendUint(std::string& out, uint64_t v);
void appendJsonString(std::string& out, std::string_view v);

}  // namespace remora::filters::access_log
