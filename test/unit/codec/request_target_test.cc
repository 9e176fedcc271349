#include "codec/request_target.h"

#include <gtest/gtest.h>

#include <string>

namespace remora::http {
namespace {

using config::EncodedSlashes;
using config::PathNormalization;

struct Case {
  const char* in;
  const char* out;
};

std::string normalized(std::string_view in, PathNormalization policy = {}) {
  std::string out;
  EXPECT_EQ(normalizeTargetTo(in, policy, out), TargetError::kNone) << in;
  return out;
}

TEST(RequestTargetTest, RemovesDotSegmentsAsRfc3986Says) {
  const Case cases[] = {
      {"/a/b/c/./../../g", "/a/g"},
      {"/a/./b", "/a/b"},
      {"/a/b/..", "/a/"},
      {"/a/b/.", "/a/b/"},
      {"/a/../b/", "/b/"},
      {"/./", "/"},
      {"/.", "/"},
      {"/a/..", "/"},
      {"/public/../admin", "/admin"},
      {"/a/.b/..c/", "/a/.b/..c/"},
      {"/a/b/../../", "/"},
      {"/a/...", "/a/..."},
  };
  for (const Case& c : cases) EXPECT_EQ(normalized(c.in), c.out) << c.in;
}

TEST(RequestTargetTest, DecodesPercentEncodedDotsBeforeRemovingSegments) {
  EXPECT_EQ(normalized("/public/%2e%2e/admin"), "/admin");
  EXPECT_EQ(normalized("/public/%2E%2e/admin"), "/admin");
  EXPECT_EQ(normalized("/public/.%2E/admin"), "/admin");
  EXPECT_EQ(normalized("/a/%2e/b"), "/a/b");
}

TEST(RequestTargetTest, DecodesUnreservedAndUppercasesTheRest) {
  EXPECT_EQ(normalized("/%41%7a%30%2D%5f%7E"), "/Az0-_~");
  EXPECT_EQ(normalized("/a%20b%3f%c3%a9"), "/a%20b%3F%C3%A9");
  EXPECT_EQ(normalized("/%25%32%65"), "/%252e");  // "%25" stays: no double decoding
}

TEST(RequestTargetTest, LeavesTheQueryAsSent) {
  EXPECT_EQ(normalized("/a/../b?x=/../%2e%2e&y=%7e"), "/b?x=/../%2e%2e&y=%7e");
  EXPECT_EQ(normalized("/a?"), "/a?");
}

TEST(RequestTargetTest, MergesSlashesOnlyWhenAsked) {
  EXPECT_EQ(normalized("/a//b///c"), "/a//b///c");
  PathNormalization merge;
  merge.merge_slashes = true;
  EXPECT_EQ(normalized("/a//b///c", merge), "/a/b/c");
  EXPECT_EQ(normalized("//", merge), "/");
  EXPECT_EQ(normalized("/a//", merge), "/a/");
  EXPECT_EQ(normalized("/a//..//b", merge), "/b");
}

TEST(RequestTargetTest, EncodedSlashesFollowThePolicy) {
  PathNormalization keep, reject, decode;
  reject.encoded_slashes = EncodedSlashes::kReject;
  decode.encoded_slashes = EncodedSlashes::kDecode;
  EXPECT_EQ(normalized("/a%2fb%5Cc\\d", keep), "/a%2Fb%5Cc\\d");
  EXPECT_EQ(normalized("/a/b%2F..%2Fc", keep), "/a/b%2F..%2Fc");  // one segment: nothing to remove
  EXPECT_EQ(normalized("/a/b%2F..%2Fc", decode), "/a/c");
  EXPECT_EQ(normalized("/a%5Cb\\c", decode), "/a/b/c");
  std::string out;
  EXPECT_EQ(normalizeTargetTo("/a%2Fb", reject, out), TargetError::kEncodedSlash);
  EXPECT_EQ(normalizeTargetTo("/a%5cb", reject, out), TargetError::kEncodedSlash);
  EXPECT_EQ(normalizeTargetTo("/a\\b", reject, out), TargetError::kEncodedSlash);
}

TEST(RequestTargetTest, RefusesWhatCannotBeMadeSafe) {
  struct Bad {
    const char* in;
    TargetError e;
  };
  const Bad bad[] = {
      {"/..", TargetError::kAboveRoot},        {"/../admin", TargetError::kAboveRoot},
      {"/a/../../b", TargetError::kAboveRoot}, {"/%2e%2e/x", TargetError::kAboveRoot},
      {"/a#frag", TargetError::kFragment},     {"/a?q#frag", TargetError::kFragment},
      {"/a%", TargetError::kBadPercent},       {"/a%2", TargetError::kBadPercent},
      {"/a%zz", TargetError::kBadPercent},     {"/a%2g/b", TargetError::kBadPercent},
  };
  for (const Bad& b : bad) {
    std::string out;
    EXPECT_EQ(normalizeTargetTo(b.in, {}, out), b.e) << b.in;
    EXPECT_STRNE(targetErrorText(b.e), "");
  }
}

TEST(RequestTargetTest, PlainPathsTakeTheFastPath) {
  const PathNormalization policy;
  for (const char* plain : {"/", "/a/b/c", "/a.b/c.d", "/a?x=/../%2e", "/a//b", "/a\\b"})
    EXPECT_FALSE(targetNeedsNormalizing(plain, policy)) << plain;
  for (const char* odd : {"/./a", "/a/..", "/a%41", "/a#f", "/a?q#f", "/.hidden"})
    EXPECT_TRUE(targetNeedsNormalizing(odd, policy)) << odd;
  PathNormalization strict;
  strict.merge_slashes = true;
  strict.encoded_slashes = EncodedSlashes::kDecode;
  EXPECT_TRUE(targetNeedsNormalizing("/a//b", strict));
  EXPECT_TRUE(targetNeedsNormalizing("/a\\b", strict));
}

TEST(RequestTargetTest, KeepsTheOriginalOnlyWhenItChanged) {
  std::string target = "/a/b", original;
  EXPECT_EQ(normalizeTarget(target, {}, original), TargetError::kNone);
  EXPECT_EQ(target, "/a/b");
  EXPECT_TRUE(original.empty());
  target = "/.hidden";  // scanned, yet unchanged
  EXPECT_EQ(normalizeTarget(target, {}, original), TargetError::kNone);
  EXPECT_TRUE(original.empty());
  target = "/public/%2e%2e/admin?x";
  EXPECT_EQ(normalizeTarget(target, {}, original), TargetError::kNone);
  EXPECT_EQ(target, "/admin?x");
  EXPECT_EQ(original, "/public/%2e%2e/admin?x");
  target = "/../x";
  original.clear();
  EXPECT_EQ(normalizeTarget(target, {}, original), TargetError::kAboveRoot);
  EXPECT_EQ(target, "/../x");
  EXPECT_TRUE(original.empty());
}

}  // namespace
}  // namespace remora::http
