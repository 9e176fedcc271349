#include "path_match.h"

#include <remora/sdk/query.h>

#include <vector>

namespace remora::auth {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Decodes %XX only where it stands for an unreserved byte ("%2F" must stay a literal byte of a
// segment, not become a separator); other escapes get upper-case hex so equal paths compare equal.
std::string decodeUnreserved(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && sdk::hexDigitValue(in[i + 1]) >= 0 &&
        sdk::hexDigitValue(in[i + 2]) >= 0) {
      char c =
          static_cast<char>(sdk::hexDigitValue(in[i + 1]) * 16 + sdk::hexDigitValue(in[i + 2]));
      if (unreserved(c)) {
        out.push_back(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out.push_back('%');
        out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
        out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
      }
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string_view stripAuthority(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size()) {
      bool same = true;
      for (size_t i = 0; i < scheme.size() && same; ++i) {
        same = (target[i] | 0x20) == scheme[i];
      }
      if (same) {
        target.remove_prefix(scheme.size());
        size_t slash = target.find('/');
        return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      }
    }
  }
  return target;
}

}  // namespace

std::string_view targetQuery(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  return query.substr(0, query.find('#'));
}

std::string normalizeForMatch(std::string_view target) {
  std::string_view path = stripAuthority(target);
  path = path.substr(0, path.find_first_of("?#"));
  std::string decoded = decodeUnreserved(path);

  std::vector<std::string_view> segments;
  std::string_view all = decoded;
  bool trailing_slash = false;
  for (size_t pos = 0;;) {
    size_t slash = all.find('/', pos);
    bool last = slash == std::string_view::npos;
    std::string_view seg = all.substr(pos, last ? std::string_view::npos : slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (last) {
      // "", "." or ".." as the last segment leave the path naming a directory (RFC 3986 §5.2.4).
      trailing_slash = seg.empty() || seg == "." || seg == "..";
      break;
    }
    pos = slash + 1;
  }
  std::string out;
  out.reserve(decoded.size() + 1);
  for (std::string_view seg : segments) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

}  // namespace remora::auth
