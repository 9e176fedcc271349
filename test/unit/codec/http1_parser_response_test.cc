// Http1Parser in response mode, as UpstreamConnection drives it.

#include <gtest/gtest.h>

#include <string>

#include "codec/http1_parser.h"
#include "unit/codec/recording_sink.h"

namespace remora::http {
namespace {

using namespace std::literals;
using stats::ProtocolError;
using testing::feed;
using testing::Fields;
using testing::RecordingSink;

TEST(Http1ResponseParserTest, ParsesStatusReasonHeadersAndBody) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in = "HTTP/1.1 201 Created Here\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  ASSERT_FALSE(p.failed()) << p.errorDetail();
  ASSERT_EQ(sink.messages.size(), 1u);
  const testing::Recorded& m = sink.messages[0];
  EXPECT_EQ(m.status, 201);
  EXPECT_EQ(m.reason, "Created Here");
  EXPECT_EQ(m.headers, (Fields{{"Content-Length", "2"}, {"X-A", "b"}}));
  EXPECT_EQ(m.body, "ok");
  EXPECT_TRUE(m.complete);
  EXPECT_TRUE(m.keep_alive);
}

TEST(Http1ResponseParserTest, NeedsNoHostHeader) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(feed(p, in), in.size());
  EXPECT_FALSE(p.failed());
}

TEST(Http1ResponseParserTest, OnHeadersReturningOneSkipsTheBodyOfAResponseToHead) {
  RecordingSink sink;
  sink.headers_rc = 1;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  EXPECT_EQ(p.execute(head.data(), head.size()), head.size());
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_TRUE(sink.messages[0].complete);
  EXPECT_TRUE(sink.messages[0].body.empty());
  EXPECT_EQ(sink.messages[0].content_length, 1000u);
  EXPECT_FALSE(p.inMessage());

  sink.headers_rc = 0;  // the next response on the connection is read normally
  std::string_view next = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  EXPECT_EQ(p.execute(next.data(), next.size()), next.size());
  ASSERT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(sink.messages[1].body, "abc");
}

TEST(Http1ResponseParserTest, NoContentAndNotModifiedHaveNoBody) {
  for (std::string_view status : {"204 No Content", "304 Not Modified"}) {
    SCOPED_TRACE(status);
    RecordingSink sink;
    Http1Parser p(Http1Parser::Kind::kResponse, sink);
    std::string in = "HTTP/1.1 " + std::string(status) + "\r\nETag: \"x\"\r\n\r\n" +
                     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz";
    EXPECT_EQ(feed(p, in), in.size());
    ASSERT_FALSE(p.failed()) << p.errorDetail();
    ASSERT_EQ(sink.messages.size(), 2u);
    EXPECT_TRUE(sink.messages[0].complete);
    EXPECT_TRUE(sink.messages[0].body.empty());
    EXPECT_EQ(sink.messages[1].body, "z");
  }
}

// A 304 may carry the Content-Length of the representation it validates, and a broken server may
// frame a 204: neither has a body (RFC 9112 section 6.3), or the next response would be read as
// this one's body and a pooled connection would desynchronize.
TEST(Http1ResponseParserTest, FramingHeadersDoNotGiveABodyTo1xx204Or304) {
  for (std::string_view head : {
           "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
           "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
           "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 100 Continue\r\nContent-Length: 10\r\n\r\n",
       }) {
    SCOPED_TRACE(head);
    RecordingSink sink;
    Http1Parser p(Http1Parser::Kind::kResponse, sink);
    std::string in = std::string(head) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    EXPECT_EQ(feed(p, in), in.size());
    ASSERT_FALSE(p.failed()) << p.errorDetail();
    ASSERT_EQ(sink.messages.size(), 2u);
    EXPECT_TRUE(sink.messages[0].complete);
    EXPECT_TRUE(sink.messages[0].body.empty());
    EXPECT_EQ(sink.messages[1].status, 200);
    EXPECT_EQ(sink.messages[1].body, "ok");
  }
}

TEST(Http1ResponseParserTest, ACloseDelimitedBodyEndsAtEof) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfirst part, ";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  std::string_view more = "second part";
  EXPECT_EQ(p.execute(more.data(), more.size()), more.size());
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_FALSE(sink.messages[0].complete);
  EXPECT_TRUE(p.inMessage());
  EXPECT_FALSE(sink.messages[0].keep_alive);

  EXPECT_EQ(p.execute(nullptr, 0), 0u);
  EXPECT_FALSE(p.failed());
  EXPECT_TRUE(sink.messages[0].complete);
  EXPECT_EQ(sink.messages[0].body, "first part, second part");
  EXPECT_FALSE(p.inMessage());
}

TEST(Http1ResponseParserTest, EofInsideTheHeadIsAnError) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in = "HTTP/1.1 200 OK\r\nContent-Le";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.execute(nullptr, 0), 0u);  // nothing to consume, whatever http_parser says
  ASSERT_TRUE(p.failed());
  EXPECT_EQ(p.error(), ProtocolError::kUpstreamBadResponse);
}

TEST(Http1ResponseParserTest, InterimResponsesAreMessagesOfTheirOwn) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(feed(p, in), in.size());
  ASSERT_FALSE(p.failed()) << p.errorDetail();
  ASSERT_EQ(sink.messages.size(), 3u);
  EXPECT_EQ(sink.messages[0].status, 100);
  EXPECT_TRUE(sink.messages[0].complete);
  EXPECT_EQ(sink.messages[1].status, 103);
  EXPECT_EQ(sink.messages[1].headers, (Fields{{"Link", "</s.css>; rel=preload"}}));
  EXPECT_EQ(sink.messages[2].status, 200);
  EXPECT_EQ(sink.messages[2].body, "ok");
}

TEST(Http1ResponseParserTest, ReadsAChunkedResponseWithTrailers) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string_view in =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nwiki\r\n5\r\npedia\r\n0\r\nGrpc-Status: 0\r\n\r\n";
  EXPECT_EQ(feed(p, in, 3), in.size());
  ASSERT_FALSE(p.failed()) << p.errorDetail();
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_EQ(sink.messages[0].body, "wikipedia");
  EXPECT_EQ(sink.messages[0].trailers, (Fields{{"Grpc-Status", "0"}}));
}

TEST(Http1ResponseParserTest, RejectsBadFramingAndGarbage) {
  struct Case {
    std::string_view input;
    ProtocolError kind;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       ProtocolError::kBadFraming},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       ProtocolError::kBadFraming},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ProtocolError::kBadFraming},
      // http_parser would read this body to EOF rather than as chunks.
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
       ProtocolError::kBadFraming},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", ProtocolError::kBadFraming},
      {"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", ProtocolError::kBadHeaderBytes},
      {"HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n", ProtocolError::kBadHeaderBytes},
      {"HTTP/1.1 200 OK\r\nX:\0H\r\n\r\n"sv, ProtocolError::kBadHeaderBytes},
      {"HTTP/1.1 200 OK\r\nX: \x7f\r\n\r\n", ProtocolError::kBadHeaderBytes},
      // http_parser frames by these names; Remora would not know them and would forward them.
      {"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", ProtocolError::kBadHeaderBytes},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding : gzip, chunked\r\n\r\n0\r\n\r\n",
       ProtocolError::kBadHeaderBytes},
      {"SSH-2.0-OpenSSH\r\n\r\n", ProtocolError::kUpstreamBadResponse},
      {"HTTP/1.1 2000 OK\r\n\r\n", ProtocolError::kUpstreamBadResponse},
      {"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n", ProtocolError::kUpstreamBadResponse},
      {"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", ProtocolError::kUpstreamBadResponse},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    RecordingSink sink;
    Http1Parser p(Http1Parser::Kind::kResponse, sink);
    feed(p, c.input);
    ASSERT_TRUE(p.failed());
    EXPECT_EQ(p.error(), c.kind) << p.errorDetail();
  }
}

TEST(Http1ResponseParserTest, ALongReasonPhraseIsRejected) {
  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  std::string in = "HTTP/1.1 200 " + std::string(2000, 'k') + "\r\n\r\n";
  feed(p, in);
  ASSERT_TRUE(p.failed());
  EXPECT_EQ(p.error(), ProtocolError::kUpstreamBadResponse);
}

TEST(Http1ResponseParserTest, ByteAtATimeMatchesOneShot) {
  std::string_view in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=b\r\n\r\nhello"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nT: v\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  RecordingSink whole_sink;
  Http1Parser whole(Http1Parser::Kind::kResponse, whole_sink);
  EXPECT_EQ(feed(whole, in), in.size());
  ASSERT_EQ(whole_sink.messages.size(), 5u);

  RecordingSink sink;
  Http1Parser p(Http1Parser::Kind::kResponse, sink);
  sink.pause_on_complete = &p;
  EXPECT_EQ(feed(p, in, 1), in.size());
  EXPECT_FALSE(p.failed()) << p.errorDetail();
  EXPECT_EQ(sink.messages, whole_sink.messages);
}

}  // namespace
}  // namespace remora::http
