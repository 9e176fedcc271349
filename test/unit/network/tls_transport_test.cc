// TlsTransport and the TLS contexts on a socket pair in one thread: the handshake driven step by
// step on both ends, ALPN, the verified peer identity, bodies across many records with the
// read-ahead bytes reported by readPending, close_notify as the end of stream, session reuse,
// and the contexts' refusals of bad material with field paths. Certificates come from
// scripts/dev-certs.sh.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <csignal>

#include <string>

#include "common/tls_env.h"
#include "network/tls_context.h"

namespace remora::network {
namespace {

class TlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);  // as remora does: a write to a closed peer is an error
    certs_ = new test::DevCerts();
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  TlsServerOptions serverOptions() const {
    TlsServerOptions o;
    o.certificates = {{certs_->file("server.crt"), certs_->file("server.key")}};
    return o;
  }
  TlsClientOptions clientOptions() const {
    TlsClientOptions o;
    o.sni = "localhost";
    o.ca_file = certs_->file("ca.crt");
    return o;
  }

  // Both ends of a fresh socket pair, the handshake run to its end (or failure).
  struct Ends {
    std::unique_ptr<TlsTransport> server, client;
    HandshakeStatus server_status = HandshakeStatus::kWantRead;
    HandshakeStatus client_status = HandshakeStatus::kWantWrite;
  };
  Ends connect(const TlsServerContext& server, const TlsClientContext& client,
               std::shared_ptr<TlsSessionSlot> slot = nullptr) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    Ends e;
    e.server = server.accept(Fd(fds[0]));
    e.client = client.connect(Fd(fds[1]), std::move(slot));
    auto waiting = [](HandshakeStatus s) {
      return s == HandshakeStatus::kWantRead || s == HandshakeStatus::kWantWrite;
    };
    for (int i = 0; i < 50 && (waiting(e.server_status) || waiting(e.client_status)); ++i) {
      if (waiting(e.client_status)) e.client_status = e.client->handshake();
      if (waiting(e.server_status)) e.server_status = e.server->handshake();
    }
    return e;
  }

  static test::DevCerts* certs_;
};

test::DevCerts* TlsTransportTest::certs_ = nullptr;

TEST_F(TlsTransportTest, HandshakeAlpnAndBytesBothWays) {
  auto server = TlsServerContext::create(serverOptions(), "tls", true);
  ASSERT_TRUE(server) << toLines(server.error());
  auto client = TlsClientContext::create(clientOptions(), "tls", {"h2"});
  ASSERT_TRUE(client) << toLines(client.error());
  Ends e = connect(*server.value(), *client.value());
  ASSERT_EQ(e.server_status, HandshakeStatus::kDone);
  ASSERT_EQ(e.client_status, HandshakeStatus::kDone);
  EXPECT_EQ(e.server->alpn(), "h2");
  EXPECT_EQ(e.client->alpn(), "h2");
  EXPECT_EQ(e.server->peerIdentity(), nullptr);  // no client certificate asked for
  ASSERT_NE(e.client->peerIdentity(), nullptr);
  EXPECT_EQ(e.client->peerIdentity()->identity, "spiffe://remora.test/ns/default/sa/server");

  // 100 KB: several records, so reads see bytes waiting inside the transport.
  EvbufferPtr out(evbuffer_new());
  std::string body(100000, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = char('a' + i % 26);
  evbuffer_add(out.get(), body.data(), body.size());
  size_t len = body.size();
  ASSERT_GE(writeAvailable(*e.client, out.get(), len), 0);
  EXPECT_EQ(len, 0u);
  std::string got;
  char small[5000];
  bool saw_pending = false;
  for (int i = 0; i < 1000 && got.size() < body.size(); ++i) {
    ssize_t n = e.server->read(small, sizeof(small));
    if (n > 0) got.append(small, size_t(n));
    saw_pending |= e.server->readPending();
  }
  EXPECT_EQ(got, body);
  EXPECT_TRUE(saw_pending);

  e.client->shutdownWrite();  // close_notify: an end of stream, not an error
  EXPECT_EQ(e.server->read(small, sizeof(small)), 0);
}

TEST_F(TlsTransportTest, ClientCertificateGivesTheVerifiedIdentity) {
  TlsServerOptions so = serverOptions();
  so.client_certificate = ClientCertificate::kRequired;
  so.ca_file = certs_->file("ca.crt");
  auto server = TlsServerContext::create(so, "tls", false);
  ASSERT_TRUE(server) << toLines(server.error());
  TlsClientOptions co = clientOptions();
  co.client_certificate = {certs_->file("client.crt"), certs_->file("client.key")};
  auto client = TlsClientContext::create(co, "tls", {});
  ASSERT_TRUE(client) << toLines(client.error());
  Ends e = connect(*server.value(), *client.value());
  ASSERT_EQ(e.server_status, HandshakeStatus::kDone);
  const PeerIdentity* id = e.server->peerIdentity();
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->identity, "spiffe://remora.test/ns/orders/sa/orders");
  EXPECT_EQ(id->cert_sha256.size(), 64u);
  EXPECT_EQ(e.server->alpn(), "");

  // Without a certificate: refused, and the reason says so.
  auto anonymous = TlsClientContext::create(clientOptions(), "tls", {});
  e = connect(*server.value(), *anonymous.value());
  // TLS 1.3: the client finishes first; its next read sees the alert.
  EXPECT_EQ(e.server_status, HandshakeStatus::kFailed);
  EXPECT_EQ(e.server->failure(), TlsFailure::kNoClientCertificate);
}

TEST_F(TlsTransportTest, VerifySansRefusesAnotherIdentity) {
  auto server = TlsServerContext::create(serverOptions(), "tls", false);
  TlsClientOptions co = clientOptions();
  co.verify_sans = {"spiffe://remora.test/ns/payments/*"};
  auto client = TlsClientContext::create(co, "tls", {});
  Ends e = connect(*server.value(), *client.value());
  EXPECT_EQ(e.client_status, HandshakeStatus::kFailed);
  EXPECT_EQ(e.client->failure(), TlsFailure::kIdentityNotAllowed);
  co.verify_sans = {"spiffe://remora.test/ns/default/*"};
  client = TlsClientContext::create(co, "tls", {});
  e = connect(*server.value(), *client.value());
  EXPECT_EQ(e.client_status, HandshakeStatus::kDone);
}

TEST_F(TlsTransportTest, WrongHostNameIsRefused) {
  auto server = TlsServerContext::create(serverOptions(), "tls", false);
  TlsClientOptions co = clientOptions();
  co.sni = "elsewhere.example";
  auto client = TlsClientContext::create(co, "tls", {});
  Ends e = connect(*server.value(), *client.value());
  EXPECT_EQ(e.client_status, HandshakeStatus::kFailed);
  EXPECT_EQ(e.client->failure(), TlsFailure::kIdentityNotAllowed);
}

TEST_F(TlsTransportTest, SessionsResumeThroughTheSlot) {
  TlsServerOptions so = serverOptions();
  so.protocol.max_version = TlsVersion::k1_2;  // the session is there right after the handshake
  auto server = TlsServerContext::create(so, "tls", false);
  auto client = TlsClientContext::create(clientOptions(), "tls", {});
  auto slot = std::make_shared<TlsSessionSlot>();
  Ends first = connect(*server.value(), *client.value(), slot);
  ASSERT_EQ(first.client_status, HandshakeStatus::kDone);
  EXPECT_FALSE(first.client->resumed());
  ASSERT_NE(slot->get(), nullptr);
  Ends second = connect(*server.value(), *client.value(), slot);
  ASSERT_EQ(second.client_status, HandshakeStatus::kDone);
  EXPECT_TRUE(second.client->resumed());
  EXPECT_TRUE(second.server->resumed());
}

TEST_F(TlsTransportTest, BadMaterialIsRefusedWithFieldPaths) {
  TlsServerOptions o = serverOptions();
  o.certificates[0].key_file = certs_->file("client.key");
  auto r = TlsServerContext::create(o, "listeners[0].tls", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error()[0].path, "listeners[0].tls.certificates[0].key_file");
  o = serverOptions();
  o.protocol.cipher_suites = {"AES128-SHA", "NO-SUCH-SUITE"};
  o.protocol.groups = {"P-256", "bogus"};
  r = TlsServerContext::create(o, "listeners[0].tls", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(toLines(r.error()),
            "listeners[0].tls.cipher_suites[0]: 'AES128-SHA' is not a forward-secret AEAD suite "
            "(ECDHE with AES-GCM or CHACHA20-POLY1305)\n"
            "listeners[0].tls.cipher_suites[1]: unknown cipher suite 'NO-SUCH-SUITE'\n"
            "listeners[0].tls.groups[1]: unknown group 'bogus'");
  TlsClientOptions c = clientOptions();
  c.ca_file = certs_->file("missing.pem");
  auto rc = TlsClientContext::create(c, "clusters[2].tls", {});
  ASSERT_FALSE(rc);
  EXPECT_EQ(rc.error()[0].path, "clusters[2].tls.ca_file");
}

}  // namespace
}  // namespace remora::network
