#include "network/client_hello.h"

#include <algorithm>
#include <cctype>

namespace remora::network {
namespace {

using Status = ClientHello::Status;

constexpr uint8_t kHandshake = 0x16;
constexpr uint8_t kClientHelloType = 0x01;
constexpr uint16_t kServerNameExt = 0;
constexpr uint16_t kAlpnExt = 16;

// A bounds-checked reader over one message; every read fails once past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t left() const { return data_.size() - pos_; }
  uint32_t u8() { return take(1) ? uint8_t(data_[pos_ - 1]) : 0; }
  uint32_t u16() {
    return take(2) ? uint32_t(uint8_t(data_[pos_ - 2])) << 8 | uint8_t(data_[pos_ - 1]) : 0;
  }
  uint32_t u24() {
    if (!take(3)) return 0;
    return uint32_t(uint8_t(data_[pos_ - 3])) << 16 | uint32_t(uint8_t(data_[pos_ - 2])) << 8 |
           uint8_t(data_[pos_ - 1]);
  }
  std::string_view bytes(size_t n) {
    if (!take(n)) return {};
    return data_.substr(pos_ - n, n);
  }
  // The next `n` bytes as a cursor of their own.
  Cursor sub(size_t n) { return Cursor(bytes(n), ok_); }

 private:
  Cursor(std::string_view data, bool ok) : data_(data), ok_(ok) {}
  bool take(size_t n) {
    if (!ok_ || left() < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void readServerName(Cursor ext, std::string& sni) {
  Cursor list = ext.sub(ext.u16());
  while (list.ok() && list.left() > 0) {
    const uint32_t type = list.u8();
    std::string_view name = list.bytes(list.u16());
    if (type != 0 || !list.ok()) continue;
    sni.assign(name);
    std::transform(sni.begin(), sni.end(), sni.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return;
  }
}

void readAlpn(Cursor ext, std::vector<std::string>& alpn) {
  Cursor list = ext.sub(ext.u16());
  while (list.ok() && list.left() > 0) {
    std::string_view name = list.bytes(list.u8());
    if (list.ok() && !name.empty()) alpn.emplace_back(name);
  }
}

// The ClientHello body after its 4-byte handshake header.
bool readHello(std::string_view body, ClientHello& out) {
  Cursor c(body);
  c.u16();           // legacy_version
  c.bytes(32);       // random
  c.bytes(c.u8());   // legacy_session_id
  c.bytes(c.u16());  // cipher_suites
  c.bytes(c.u8());   // legacy_compression_methods
  if (!c.ok()) return false;
  if (c.left() == 0) return true;  // no extensions (TLS 1.2 allows it)
  Cursor exts = c.sub(c.u16());
  while (exts.ok() && exts.left() > 0) {
    const uint32_t type = exts.u16();
    Cursor ext = exts.sub(exts.u16());
    if (!exts.ok()) break;
    if (type == kServerNameExt) readServerName(ext, out.sni);
    if (type == kAlpnExt) readAlpn(ext, out.alpn);
  }
  return exts.ok();
}

}  // namespace

ClientHello parseClientHello(std::string_view bytes) {
  ClientHello out;
  if (bytes.empty()) return out;
  if (!looksLikeTls(bytes)) {
    out.status = Status::kNotTls;
    return out;
  }
  // The handshake message may span several records: join their payloads.
  std::string message;
  size_t pos = 0;
  size_t need = 0;  // the whole message's length, once its header is in
  while (true) {
    if (bytes.size() - pos < 5) {
      out.status = bytes.size() >= kMaxClientHelloBytes ? Status::kMalformed : Status::kNeedMore;
      return out;
    }
    if (uint8_t(bytes[pos]) != kHandshake || uint8_t(bytes[pos + 1]) != 0x03) {
      out.status = pos == 0 ? Status::kNotTls : Status::kMalformed;
      return out;
    }
    const size_t len = size_t(uint8_t(bytes[pos + 3])) << 8 | uint8_t(bytes[pos + 4]);
    if (len == 0 || 5 + len > kMaxClientHelloBytes) {
      out.status = Status::kMalformed;
      return out;
    }
    if (bytes.size() - pos - 5 < len) {
      out.status = pos + 5 + len > kMaxClientHelloBytes ? Status::kMalformed : Status::kNeedMore;
      return out;
    }
    message.append(bytes.substr(pos + 5, len));
    pos += 5 + len;
    if (need == 0 && message.size() >= 4) {
      if (uint8_t(message[0]) != kClientHelloType) {
        out.status = Status::kMalformed;
        return out;
      }
      need = 4 + (size_t(uint8_t(message[1])) << 16 | size_t(uint8_t(message[2])) << 8 |
                  uint8_t(message[3]));
      if (need > kMaxClientHelloBytes) {
        out.status = Status::kMalformed;
        return out;
      }
    }
    if (need != 0 && message.size() >= need) break;
  }
  out.status = readHello(std::string_view(message).substr(4, need - 4), out) ? Status::kComplete
                                                                             : Status::kMalformed;
  return out;
}

}  // namespace remora::network
