// dns clusters follow their records' TTL: the delay rule, and the watcher against a real name
// server (libevent's evdns server on 127.0.0.1) whose answer changes under a short TTL.

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <string>

#include "common/temp_dir.h"
#include "discovery/endpoint_discovery.h"

namespace remora::discovery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(DnsRefreshTest, FollowsTheTtlWithinFloorAndRefresh) {
  const config::Duration refresh = seconds(30);
  EXPECT_EQ(nextDnsRefresh(seconds(5), refresh), seconds(5));
  EXPECT_EQ(nextDnsRefresh(seconds(300), refresh), refresh);       // refresh is the maximum
  EXPECT_EQ(nextDnsRefresh(seconds(0), refresh), kDnsMinRefresh);  // TTL 0: not a busy loop
  EXPECT_EQ(nextDnsRefresh(std::nullopt, refresh), refresh);       // /etc/hosts, literals, failures
  // A refresh below the floor stays the bound on both sides.
  EXPECT_EQ(nextDnsRefresh(seconds(0), milliseconds(200)), milliseconds(200));
  EXPECT_EQ(nextDnsRefresh(seconds(10), milliseconds(200)), milliseconds(200));
}

// A UDP name server answering A queries from `records` (name → IPv4, TTL), counting queries.
class FakeNameServer {
 public:
  explicit FakeNameServer(event_base* base) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    evutil_make_socket_nonblocking(fd_);
    server_ = evdns_add_server_port_with_base(base, fd_, 0, &FakeNameServer::onRequest, this);
  }
  ~FakeNameServer() {
    evdns_close_server_port(server_);
    close(fd_);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  struct Record {
    std::string ip;
    int ttl;
  };
  std::map<std::string, Record> records;
  std::map<std::string, int> queries;

 private:
  static void onRequest(evdns_server_request* req, void* arg) {
    auto* self = static_cast<FakeNameServer*>(arg);
    int err = DNS_ERR_NOTEXIST;
    for (int i = 0; i < req->nquestions; ++i) {
      const evdns_server_question* q = req->questions[i];
      // evdns randomises the case of the names it asks (a spoofing defence): compare lowered.
      std::string name = q->name;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++self->queries[name];
      auto it = self->records.find(name);
      if (q->type != EVDNS_TYPE_A || it == self->records.end()) continue;
      in_addr a{};
      inet_pton(AF_INET, it->second.ip.c_str(), &a);
      evdns_server_request_add_a_reply(req, q->name, 1, &a, it->second.ttl);
      err = DNS_ERR_NONE;
    }
    evdns_server_request_respond(req, err);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  evdns_server_port* server_ = nullptr;
};

struct Published {
  std::string last;  // "ip:port,..." of the latest set
  int count = 0;
};

config::Config dnsCluster(const std::string& host, config::Duration refresh) {
  config::Config c;
  config::Cluster cl;
  cl.name = "app";
  cl.type = config::ClusterType::kDns;
  cl.discovery.hosts = {{host, 8080}};
  cl.discovery.refresh = refresh;
  c.clusters.push_back(cl);
  return c;
}

// Runs the loop until `done` or `limit`; true when done.
template <typename Pred>
bool runUntil(event_base* base, Pred done, milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    timeval tick{0, 20000};
    event_base_loopexit(base, &tick);
    event_base_dispatch(base);
  }
  return done();
}

class DnsWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    server_ = std::make_unique<FakeNameServer>(base_);
    dns_ = evdns_base_new(base_, 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns_, server_->address().c_str()), 0);
    hosts_file_ = dir_.file("hosts");
    std::ofstream(hosts_file_) << "127.0.0.9 static.test\n";
    ASSERT_EQ(evdns_base_load_hosts(dns_, hosts_file_.c_str()), 0);
    discovery_ = std::make_unique<EndpointDiscovery>(
        base_, nullptr,
        [this](const std::string&, EndpointSet eps) {
          std::string text;
          for (const config::SocketAddress& a : *eps) text += (text.empty() ? "" : ",") + a.str();
          published_.last = text;
          ++published_.count;
        },
        dns_);
  }
  void TearDown() override {
    discovery_.reset();
    evdns_base_free(dns_, 1);
    server_.reset();
    event_base_free(base_);
  }

  event_base* base_ = nullptr;
  evdns_base* dns_ = nullptr;
  std::unique_ptr<FakeNameServer> server_;
  test::TempDir dir_;
  std::string hosts_file_;
  std::unique_ptr<EndpointDiscovery> discovery_;
  Published published_;
};

TEST_F(DnsWatcherTest, ChangedRecordIsFollowedAfterItsTtlNotTheRefresh) {
  server_->records["app.test"] = {"127.0.0.1", 1};
  discovery_->reconcile(dnsCluster("app.test", seconds(30)));
  ASSERT_TRUE(runUntil(
      base_, [&] { return published_.count == 1; }, seconds(3)));
  EXPECT_EQ(published_.last, "127.0.0.1:8080");

  server_->records["app.test"] = {"127.0.0.2", 1};
  // TTL 1 s: seen again within about a second, long before the 30 s refresh.
  EXPECT_TRUE(runUntil(
      base_, [&] { return published_.last == "127.0.0.2:8080"; }, seconds(4)));
}

TEST_F(DnsWatcherTest, HostsFileNameUsesTheRefreshAndNoNameServer) {
  discovery_->reconcile(dnsCluster("static.test", milliseconds(300)));
  ASSERT_TRUE(runUntil(
      base_, [&] { return published_.count == 1; }, seconds(3)));
  EXPECT_EQ(published_.last, "127.0.0.9:8080");
  // Several refreshes later: the name server was never asked, the unchanged set not republished.
  runUntil(
      base_, [] { return false; }, milliseconds(1000));
  EXPECT_EQ(server_->queries.count("static.test"), 0u);
  EXPECT_EQ(published_.count, 1);
}

TEST_F(DnsWatcherTest, FailedLookupKeepsTheLastSet) {
  server_->records["app.test"] = {"127.0.0.1", 1};
  discovery_->reconcile(dnsCluster("app.test", seconds(30)));
  ASSERT_TRUE(runUntil(
      base_, [&] { return published_.count == 1; }, seconds(3)));
  const int asked = server_->queries["app.test"];
  server_->records.erase("app.test");
  // The TTL brings the next lookup (answered "no such name") within about a second.
  ASSERT_TRUE(runUntil(
      base_, [&] { return server_->queries["app.test"] > asked; }, seconds(4)));
  runUntil(
      base_, [] { return false; }, milliseconds(200));
  EXPECT_EQ(published_.count, 1);
  EXPECT_EQ(published_.last, "127.0.0.1:8080");
}

}  // namespace
}  // namespace remora::discovery
