#pragma once
// The checks and rewrites every request head passes before the filter chain runs, HTTP/1 and
// HTTP/2 alike, so that the chain and the upstream see one agreed request:
//   - CONNECT is refused (405): Remora does not tunnel it;
//   - Host / `:authority` must be one valid host[:port] (RFC 3986 reg-name, IPv4 or [IPv6]
//     literal, no userinfo), agree with each other and with an absolute-form target;
//   - an absolute-form target ("http://host/p") becomes origin form ("/p");
//   - the path is normalized (request_target.h);
//   - Upgrade keeps only the listener's protocols (h2c never), else the request goes on without
//     it (HTTP2-Settings always goes).
// The target as received is kept in MessageHead::original_url when any of this changed it.

#include <string>
#include <string_view>

#include "codec/http1_parser.h"
#include "config/config.h"
#include "stats/stats.h"

namespace remora::http {

struct HeadRefusal {
  int status = 0;  // 0: the head may go on
  stats::ProtocolError kind = stats::ProtocolError::kCount;
  const char* detail = "";  // plain text for the local reply, without the newline
  explicit operator bool() const { return status != 0; }
};

// True when `v` is host[:port]: a reg-name (unreserved, sub-delims, pct-encoded), IPv4, or an
// IPv6 literal in brackets, then an optional port of 1-5 digits up to 65535. `why` names the
// fault when false ("userinfo in Host", "invalid Host").
bool validAuthority(std::string_view v, const char** why);

// Runs the checks above on `head` (HTTP/1 or HTTP/2). `authority` is HTTP/2's `:authority`
// (empty for HTTP/1). `valid_host`, when given, is the last Host that passed on this connection:
// a keep-alive client repeats its Host, so an equal one is not validated again, and one that
// passes is kept there. Called on the worker once per request, before the chain.
HeadRefusal checkRequestHead(MessageHead& head, const config::Listener& listener,
                             std::string_view authority = {}, std::string* valid_host = nullptr);

}  // namespace remora::http
