#include "codec/request_target.h"

#include <cstring>

namespace remora::http {

namespace {

using config::EncodedSlashes;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char upperHex(char c) {
  return c >= 'a' && c <= 'f' ? char(c - 'a' + 'A') : c;
}

bool isUnreserved(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// An encoded or raw slash/backslash under the listener's policy; false to refuse.
bool slashByPolicy(EncodedSlashes policy, std::string_view as_sent, std::string& out) {
  switch (policy) {
    case EncodedSlashes::kReject:
      return false;
    case EncodedSlashes::kDecode:
      out.push_back('/');
      return true;
    case EncodedSlashes::kKeep:
      break;
  }
  for (char c : as_sent) out.push_back(upperHex(c));
  return true;
}

// Percent-decoding of the path: unreserved characters decoded, the rest kept with upper hex.
TargetError decodePath(std::string_view path, EncodedSlashes slashes, std::string& out) {
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') {
      if (!slashByPolicy(slashes, path.substr(i, 1), out)) return TargetError::kEncodedSlash;
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    int hi = i + 2 < path.size() ? hexValue(path[i + 1]) : -1;
    int lo = hi >= 0 ? hexValue(path[i + 2]) : -1;
    if (lo < 0) return TargetError::kBadPercent;
    int v = hi * 16 + lo;
    if (isUnreserved(v)) {
      out.push_back(char(v));
    } else if (v == '/' || v == '\\') {
      if (!slashByPolicy(slashes, path.substr(i, 3), out)) return TargetError::kEncodedSlash;
    } else {
      out.push_back('%');
      out.push_back(upperHex(path[i + 1]));
      out.push_back(upperHex(path[i + 2]));
    }
    i += 2;
  }
  return TargetError::kNone;
}

// RFC 3986 §5.2.4 on a path starting with "/", segment by segment, except that a ".." with
// nothing left to remove is an error rather than ignored: such a request was written to escape.
TargetError removeDotSegments(std::string_view path, bool merge_slashes, std::string& out) {
  size_t i = 1;
  for (;;) {
    size_t j = path.find('/', i);
    bool last = j == std::string_view::npos;
    if (last) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == ".") {
      if (last) out.push_back('/');
    } else if (seg == "..") {
      if (out.empty()) return TargetError::kAboveRoot;
      out.resize(out.rfind('/'));
      if (last) out.push_back('/');
    } else if (!(seg.empty() && merge_slashes && !last)) {
      out.push_back('/');
      out.append(seg);
    }
    if (last) break;
    i = j + 1;
  }
  if (out.empty()) out.push_back('/');
  return TargetError::kNone;
}

}  // namespace

const char* targetErrorText(TargetError e) {
  switch (e) {
    case TargetError::kFragment:
      return "fragment in request target";
    case TargetError::kAboveRoot:
      return "request path climbs above the root";
    case TargetError::kBadPercent:
      return "invalid percent-encoding in request path";
    case TargetError::kEncodedSlash:
      return "encoded slash or backslash in request path";
    case TargetError::kNone:
      break;
  }
  return "";
}

bool targetNeedsNormalizing(std::string_view target, const config::PathNormalization& policy) {
  bool backslash = policy.encoded_slashes != EncodedSlashes::kKeep;
  char prev = 0;
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '?') return std::memchr(target.data() + i, '#', target.size() - i) != nullptr;
    if (c == '%' || c == '#' || (c == '\\' && backslash)) return true;
    if (prev == '/' && (c == '.' || (c == '/' && policy.merge_slashes))) return true;
    prev = c;
  }
  return false;
}

TargetError normalizeTargetTo(std::string_view target, const config::PathNormalization& policy,
                              std::string& out) {
  out.clear();
  if (target.find('#') != std::string_view::npos) return TargetError::kFragment;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string decoded;
  if (TargetError e = decodePath(path, policy.encoded_slashes, decoded); e != TargetError::kNone)
    return e;
  out.reserve(target.size());
  if (TargetError e = removeDotSegments(decoded, policy.merge_slashes, out);
      e != TargetError::kNone)
    return e;
  if (q != std::string_view::npos) out.append(target.substr(q));
  return TargetError::kNone;
}

TargetError normalizeTarget(std::string& target, const config::PathNormalization& policy,
                            std::string& original) {
  if (!targetNeedsNormalizing(target, policy)) return TargetError::kNone;
  std::string out;
  if (TargetError e = normalizeTargetTo(target, policy, out); e != TargetError::kNone) return e;
  if (out == target) return TargetError::kNone;
  original = std::move(target);
  target = std::move(out);
  return TargetError::kNone;
}

}  // namespace remora::http
