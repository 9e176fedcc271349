#pragma once
// The fast path for plain HTTP/1.x message heads.
//
// http_parser reads a head one byte at a time through a state machine: about 20 instructions a
// byte, which made it the largest single cost of a proxied request (a request and a response head
// with a bearer token are ~500 bytes). Nearly every head Remora sees is plain: HTTP/1.0 or 1.1,
// a common method, an origin-form target, token names, printable values, CRLF line ends, framing
// by Content-Length or no body at all. parseFastHead() reads such a head whole, a line at a time
// with memchr and table lookups. Anything else — a head not yet complete in the buffer,
// Transfer-Encoding, Upgrade, CONNECT, obs-fold, bare LF, control or non-ASCII bytes, a
// Connection value that is not a plain token list, a close-delimited response — is declined, and
// http_parser parses the message from its first byte exactly as before. So the fast path never
// has to reject anything itself: every error path stays with http_parser and Remora's checks
// around it, and the fuzzers compare both paths on the same bytes.

#include <cstddef>
#include <cstdint>

namespace remora::http {

struct MessageHead;

// Parses the head at the start of data[0..len) into `head` (cleared first). Returns its length
// including the final CRLF, or 0 when the fast path declines (then `head` holds garbage and the
// caller must not use it). Heads over `max_head_bytes` or `max_headers` are declined too, so the
// limits' errors come from the one place that reports them.
size_t parseFastHead(bool request, const char* data, size_t len, uint32_t max_head_bytes,
                     uint32_t max_headers, MessageHead& head);

}  // namespace remora::http
