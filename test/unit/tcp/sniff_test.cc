// Protocol detection's reading of first bytes, and the ClientHello parser on a real ClientHello
// made by OpenSSL (a client SSL on memory BIOs), whole and cut at every length.

#include "tcp/sniff.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>

#include "config/tcp_fields.h"
#include "network/client_hello.h"

namespace remora::tcp {
namespace {

std::string clientHello(const char* sni) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  if (sni) SSL_set_tlsext_host_name(ssl, sni);
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(ssl, kAlpn, sizeof(kAlpn) - 1);
  SSL_connect(ssl);  // wants to read the ServerHello; the ClientHello is in `out`
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string hello(data, size_t(len));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

TEST(ClientHello, ReadsSniAndAlpnOfARealHello) {
  const std::string hello = clientHello("API.Example.com");
  network::ClientHello h = network::parseClientHello(hello);
  ASSERT_EQ(h.status, network::ClientHello::Status::kComplete);
  EXPECT_EQ(h.sni, "api.example.com");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  // Every prefix asks for more, never misreads.
  for (size_t n = 1; n < hello.size(); ++n)
    ASSERT_EQ(network::parseClientHello(hello.substr(0, n)).status,
              network::ClientHello::Status::kNeedMore)
        << n;
}

TEST(ClientHello, WithoutSniAndMalformed) {
  network::ClientHello h = network::parseClientHello(clientHello(nullptr));
  EXPECT_EQ(h.status, network::ClientHello::Status::kComplete);
  EXPECT_EQ(h.sni, "");
  std::string bad = clientHello("a.test");
  bad[5] = 0x02;  // a ServerHello type where the ClientHello belongs
  EXPECT_EQ(network::parseClientHello(bad).status, network::ClientHello::Status::kMalformed);
  EXPECT_EQ(network::parseClientHello("GET / HTTP/1.1\r\n").status,
            network::ClientHello::Status::kNotTls);
}

TEST(Sniff, TellsProtocolsApart) {
  EXPECT_EQ(sniff("GET / HTTP/1.1\r\nHost: a\r\n\r\n").kind, Sniffed::kHttp1);
  EXPECT_EQ(sniff("POST /x?y HTTP/1.0\n").kind, Sniffed::kHttp1);
  EXPECT_EQ(sniff("GET /partial").kind, Sniffed::kNeedMore);
  EXPECT_EQ(sniff("GE").kind, Sniffed::kNeedMore);
  EXPECT_EQ(sniff("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").kind, Sniffed::kHttp2);
  EXPECT_EQ(sniff("PRI * HTTP/2").kind, Sniffed::kNeedMore);
  EXPECT_EQ(sniff("*1\r\n$4\r\nPING\r\n").kind, Sniffed::kOther);  // Redis RESP
  EXPECT_EQ(sniff("SET key value\r\n").kind, Sniffed::kOther);     // Redis inline
  EXPECT_EQ(sniff(std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8)).kind, Sniffed::kOther);  // Postgres
  SniffResult tls = sniff(clientHello("db.internal"));
  EXPECT_EQ(tls.kind, Sniffed::kTls);
  EXPECT_EQ(tls.sni, "db.internal");
}

TEST(SniMatches, ExactAndWildcard) {
  EXPECT_TRUE(config::sniMatches("a.example.com", "a.example.com"));
  EXPECT_FALSE(config::sniMatches("a.example.com", "b.example.com"));
  EXPECT_TRUE(config::sniMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(config::sniMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(config::sniMatches("*.example.com", "example.com"));
  EXPECT_FALSE(config::sniMatches("*.example.com", "aexample.com"));
}

}  // namespace
}  // namespace remora::tcp
