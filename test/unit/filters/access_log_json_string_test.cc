// appendJsonString scans eight bytes at a time; these cases put every kind of byte that needs
// escaping at every offset of strings around the word size, and compare with a byte-wise
// reference.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "access_log/log_format.h"

namespace remora::filters::access_log {
namespace {

// Byte-wise reference: the escaping rules, written the slow obvious way.
std::string reference(const std::string& v) {
  std::string out = "\"";
  for (size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else if (c == 0xc3 && i + 1 < v.size() &&
               (static_cast<unsigned char>(v[i + 1]) & 0xc0) == 0x80) {
      out += v.substr(i, 2);  // the only multi-byte sequence the cases use: "é"
      ++i;
    } else if (c >= 0x80) {
      out += "\\ufffd";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

TEST(AccessLogJsonString, MatchesTheByteWiseRulesAtEveryOffset) {
  const std::string specials[] = {"\"",   "\\",   "\n",   "\r",       "\t", "\x01", "\x1f",
                                  "\x7f", "\x80", "\xff", "\xc3\xa9", " ",  "~",    "\x20"};
  for (size_t len = 0; len <= 20; ++len) {
    for (const std::string& special : specials) {
      for (size_t at = 0; at <= len; ++at) {
        std::string v(len, 'a');
        v.insert(at, special);
        std::string out;
        appendJsonString(out, v);
        ASSERT_EQ(out, reference(v)) << "len " << len << " at " << at;
      }
    }
  }
}

TEST(AccessLogJsonString, PlainLongValuesAreCopiedAsIs) {
  std::string v = "/api/v1/orders/12345?expand=items&sort=-created_at";
  std::string out;
  appendJsonString(out, v);
  EXPECT_EQ(out, "\"" + v + "\"");
}

}  // namespace
}  // namespace remora::filters::access_log
