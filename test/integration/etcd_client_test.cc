// The etcd gateway client against a real etcd: every call it offers, and a watch that sees a
// put and a delete. Runs the client on a private event_base, as the main thread would.

#include "etcd/etcd_client.h"

#include <event2/event.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/c_handles.h"
#include "common/etcd_server.h"

namespace remora::test {
namespace {

// Runs `base` until `until()` holds or 5 s pass.
void runUntil(event_base* base, const std::function<bool()>& until) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!until() && std::chrono::steady_clock::now() < deadline) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    usleep(1000);
  }
}

void runUntil(event_base* base, const bool& done) {
  runUntil(base, [&] { return done; });
}

TEST(EtcdClient, KvLeaseAndWatch) {
  EtcdServer etcd;
  EventBasePtr base(event_base_new());
  etcd::Client client(base.get(), {{"127.0.0.1", etcd.port()}});

  bool done = false;
  Status put_status;
  auto h1 = client.put("/t/a", "one", 0, [&](Status s) {
    put_status = s;
    done = true;
  });
  runUntil(base.get(), done);
  ASSERT_TRUE(done && put_status.ok()) << put_status.error();

  done = false;
  std::vector<etcd::KeyValue> kvs;
  int64_t revision = 0;
  auto h2 = client.range("/t/", etcd::prefixEnd("/t/"), [&](auto r) {
    ASSERT_TRUE(r.ok()) << r.error();
    kvs = r->kvs;
    revision = r->revision;
    done = true;
  });
  runUntil(base.get(), done);
  ASSERT_EQ(kvs.size(), 1u);
  EXPECT_EQ(kvs[0].key, "/t/a");
  EXPECT_EQ(kvs[0].value, "one");
  EXPECT_EQ(kvs[0].mod_revision, revision);

  // A watch from the next revision sees a put (no "type") and a delete.
  std::vector<std::string> events;
  bool ended = false;
  auto watch = client.watch(
      {{"key", etcd::base64Encode("/t/")},
       {"range_end", etcd::base64Encode(etcd::prefixEnd("/t/"))},
       {"start_revision", std::to_string(revision + 1)}},
      [&](const nlohmann::json& line) {
        for (const auto& ev : line["result"].value("events", nlohmann::json::array()))
          events.push_back(ev.value("type", "PUT") + " " +
                           etcd::base64Decode(ev["kv"].value("key", "")).value());
      },
      [&](const std::string&) { ended = true; });
  ASSERT_TRUE(etcd.put("/t/b", "two"));
  done = false;
  int64_t deleted = -1;
  auto h3 = client.del("/t/a", "", [&](Result<int64_t> n) {
    deleted = n.ok() ? n.value() : -1;
    done = true;
  });
  runUntil(base.get(), done);
  EXPECT_EQ(deleted, 1);
  runUntil(base.get(), [&] { return events.size() >= 2; });
  EXPECT_EQ(events, (std::vector<std::string>{"PUT /t/b", "DELETE /t/a"}));
  EXPECT_FALSE(ended);

  // Leases: grant, keep alive, and a keepalive of an unknown lease answers TTL 0.
  done = false;
  int64_t lease = 0;
  auto h4 = client.leaseGrant(5, [&](Result<int64_t> id) {
    lease = id.ok() ? id.value() : 0;
    done = true;
  });
  runUntil(base.get(), done);
  ASSERT_NE(lease, 0);
  done = false;
  int64_t ttl = -1;
  auto h5 = client.leaseKeepAlive(lease, [&](Result<int64_t> t) {
    ttl = t.ok() ? t.value() : -1;
    done = true;
  });
  runUntil(base.get(), done);
  EXPECT_EQ(ttl, 5);

  // etcd going away ends the watch.
  etcd.stop();
  runUntil(base.get(), ended);
  EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace remora::test
