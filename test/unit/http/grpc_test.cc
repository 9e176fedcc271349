#include "http/grpc.h"

#include <gtest/gtest.h>

namespace remora::http::grpc {
namespace {

TEST(GrpcContentType, DetectsGrpcAndItsSubtypes) {
  EXPECT_TRUE(isGrpcContentType("application/grpc"));
  EXPECT_TRUE(isGrpcContentType("application/grpc+proto"));
  EXPECT_TRUE(isGrpcContentType("application/grpc+json"));
  EXPECT_TRUE(isGrpcContentType("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(isGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(isGrpcContentType("application/grpc-web+proto"));
  EXPECT_FALSE(isGrpcContentType("application/json"));
  EXPECT_FALSE(isGrpcContentType("application/grp"));
  EXPECT_FALSE(isGrpcContentType(""));
}

TEST(GrpcTimeout, ParsesEveryUnit) {
  EXPECT_EQ(parseTimeoutMs("1H"), 3600000u);
  EXPECT_EQ(parseTimeoutMs("2M"), 120000u);
  EXPECT_EQ(parseTimeoutMs("3S"), 3000u);
  EXPECT_EQ(parseTimeoutMs("250m"), 250u);
  EXPECT_EQ(parseTimeoutMs("1500u"), 2u);  // rounded up
  EXPECT_EQ(parseTimeoutMs("1000u"), 1u);
  EXPECT_EQ(parseTimeoutMs("1n"), 1u);  // a positive timeout never becomes "none"
  EXPECT_EQ(parseTimeoutMs("0m"), 0u);
  EXPECT_EQ(parseTimeoutMs("99999999H"), 99999999ull * 3600 * 1000);  // 8 digits fit
}

TEST(GrpcTimeout, RejectsMalformedValues) {
  EXPECT_FALSE(parseTimeoutMs(""));
  EXPECT_FALSE(parseTimeoutMs("S"));
  EXPECT_FALSE(parseTimeoutMs("10"));
  EXPECT_FALSE(parseTimeoutMs("10s"));  // units are case-sensitive: s is not S
  EXPECT_FALSE(parseTimeoutMs("10 S"));
  EXPECT_FALSE(parseTimeoutMs("-1S"));
  EXPECT_FALSE(parseTimeoutMs("123456789S"));  // 9 digits
  EXPECT_FALSE(parseTimeoutMs("1.5S"));
}

TEST(GrpcStatus, ParsesDigits) {
  EXPECT_EQ(parseStatus("0"), 0);
  EXPECT_EQ(parseStatus("14"), 14);
  EXPECT_EQ(parseStatus("99"), 99);
  EXPECT_FALSE(parseStatus(""));
  EXPECT_FALSE(parseStatus("x"));
  EXPECT_FALSE(parseStatus("1000"));
  EXPECT_EQ(statusSlot(16), 16);
  EXPECT_EQ(statusSlot(17), kUnknownSlot);
  EXPECT_EQ(statusSlot(-1), kUnknownSlot);
}

TEST(GrpcStatus, MapsHttpStatusesLikeEnvoy) {
  EXPECT_EQ(statusFromHttp(400), kInternal);
  EXPECT_EQ(statusFromHttp(401), kUnauthenticated);
  EXPECT_EQ(statusFromHttp(403), kPermissionDenied);
  EXPECT_EQ(statusFromHttp(404), kUnimplemented);
  EXPECT_EQ(statusFromHttp(429), kUnavailable);
  EXPECT_EQ(statusFromHttp(502), kUnavailable);
  EXPECT_EQ(statusFromHttp(503), kUnavailable);
  EXPECT_EQ(statusFromHttp(504), kUnavailable);
  EXPECT_EQ(statusFromHttp(500), kUnknown);
  EXPECT_EQ(statusFromHttp(418), kUnknown);
}

TEST(GrpcStatus, NamesRoundTrip) {
  for (int s = 0; s <= kMaxStatus; ++s) EXPECT_EQ(statusFromName(statusName(s)), s);
  EXPECT_EQ(statusFromName("deadline-exceeded"), kDeadlineExceeded);
  EXPECT_EQ(statusName(17), "unknown");
  EXPECT_FALSE(statusFromName("Unavailable"));
  EXPECT_FALSE(statusFromName("nope"));
}

TEST(GrpcMessage, PercentEncodesWhatTheSpecRequires) {
  std::string out;
  appendPercentEncoded(out, "no route matched the request\n");
  EXPECT_EQ(out, "no route matched the request");
  out.clear();
  appendPercentEncoded(out, "100% sure\r\n\xc3\xa9");
  EXPECT_EQ(out, "100%25 sure%0D%0A%C3%A9");
  out.clear();
  appendPercentEncoded(out, "tab\there ~");
  EXPECT_EQ(out, "tab%09here ~");
  out.clear();
  appendPercentEncoded(out, "");
  EXPECT_EQ(out, "");
}

TEST(GrpcPath, SplitsServiceAndMethod) {
  auto sm = splitPath("/helloworld.Greeter/SayHello");
  ASSERT_TRUE(sm);
  EXPECT_EQ(sm->service, "helloworld.Greeter");
  EXPECT_EQ(sm->method, "SayHello");
  EXPECT_FALSE(splitPath("/"));
  EXPECT_FALSE(splitPath("/Service"));
  EXPECT_FALSE(splitPath("/Service/"));
  EXPECT_FALSE(splitPath("//Method"));
  EXPECT_FALSE(splitPath("/a/b/c"));
  EXPECT_FALSE(splitPath("/a/b?x=1"));
  EXPECT_FALSE(splitPath("a/b"));
}

}  // namespace
}  // namespace remora::http::grpc
