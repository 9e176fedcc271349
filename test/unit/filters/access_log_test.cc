// The access_log filter through the real plugin (build/filters/access_log.so) and the test host.
// Lines are written by the plugin's writer thread, so tests poll the output file (bounded).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/filter_test_host.h"
#include "common/temp_dir.h"

namespace remora::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  return out;
}

// Polls `path` until it holds at least `n` lines (at most 5 s).
std::vector<std::string> waitForLines(const std::string& path, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  std::vector<std::string> got;
  while ((got = lines(readFile(path))).size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  return got;
}

class AccessLogFilter : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(host_.ok()) << host_.error(); }

  std::unique_ptr<PluginConfig> config(const nlohmann::json& extra) {
    nlohmann::json j = extra;
    if (!j.contains("path")) j["path"] = log_path_;
    std::string error;
    auto c = host_.newConfig(j.dump(), &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  std::string reject(const nlohmann::json& j) {
    std::string error;
    EXPECT_EQ(host_.newConfig(j.dump(), &error), nullptr) << j.dump();
    return error;
  }

  // A finished stream with every fact the formats read, logged on destruction.
  void logOne(const PluginConfig& c, const std::function<void(TestStream&)>& adjust = {}) {
    auto s = host_.newStream(c);
    s->method = "POST";
    s->path = "/api/items?id=7";
    s->authority = "api.example";
    s->client_address = "10.1.2.3";
    s->request_headers.add("x-request-id", "req-123");
    s->request_headers.add("user-agent", "curl/8");
    s->response_status = 201;
    s->response_headers.add("content-type", "application/json");
    s->request_bytes = 17;
    s->response_bytes = 2048;
    s->upstream_address = "127.0.0.1:8080";
    s->response_flags = "-";
    s->start_us = host_.nowUnixUs();  // 2023-11-14T22:13:20.000Z
    if (adjust) adjust(*s);
    host_.advance(42ms);
  }

  TempDir dir_;
  std::string log_path_ = dir_.file("access.log");
  FilterTestHost host_{FilterTestHost::pluginPath("access_log")};
};

TEST_F(AccessLogFilter, OnlyTheLogHookIsExported) {
  const remora_plugin_descriptor_t& d = host_.descriptor();
  EXPECT_NE(d.on_log, nullptr);
  EXPECT_EQ(d.on_request_headers, nullptr);
  EXPECT_EQ(d.on_response_headers, nullptr);
  EXPECT_EQ(d.priority, 0);
}

TEST_F(AccessLogFilter, TextFormatRendersEveryCommand) {
  auto c = config({{"text_format",
                    "%START_TIME% %REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %PROTOCOL% "
                    "%RESPONSE_CODE% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %UPSTREAM_HOST% "
                    "%RESPONSE_FLAGS% %REQ_ID% %DOWNSTREAM_REMOTE_ADDRESS% %REQ(USER-AGENT)% "
                    "%RESP(Content-Type)% %DYNAMIC_METADATA(principal)% 100%%"}});
  logOne(*c, [](TestStream& s) { s.metadata["principal"] = "alice"; });
  auto got = waitForLines(log_path_, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0],
            "2023-11-14T22:13:20.000Z POST /api/items?id=7 api.example HTTP/1.1 201 17 2048 42 "
            "127.0.0.1:8080 - req-123 10.1.2.3 curl/8 application/json alice 100%");
}

TEST_F(AccessLogFilter, MissingValuesAlternativesAndTruncation) {
  auto c = config({{"text_format",
                    "%REQ(X-MISSING)%|%REQ(X-MISSING?USER-AGENT)%|%REQ(X-REQUEST-ID):3%|"
                    "%RESP(X-NONE)%|%DYNAMIC_METADATA(none)%|%UPSTREAM_HOST%|%PROTOCOL%"}});
  logOne(*c, [](TestStream& s) {
    s.upstream_address.clear();
    s.metadata["remora.protocol"] = "HTTP/2";
  });
  auto got = waitForLines(log_path_, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "-|curl/8|req|-|-|-|HTTP/2");
}

TEST_F(AccessLogFilter, OriginalPathIsTheTargetAsReceived) {
  auto c = config({{"text_format", "%REQ(:PATH)% %ORIGINAL_PATH%"}});
  logOne(*c, [](TestStream& s) {
    s.path = "/admin";
    s.metadata["remora.original_path"] = "/public/%2e%2e/admin";
  });
  // Without the key (a kernel that did not change the path) it is the path itself.
  logOne(*c, [](TestStream& s) { s.path = "/plain"; });
  auto got = waitForLines(log_path_, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "/admin /public/%2e%2e/admin");
  EXPECT_EQ(got[1], "/plain /plain");
}

TEST_F(AccessLogFilter, JsonHasTheOriginalPathOnlyWhenItDiffers) {
  auto c = config({{"format", "json"}});
  logOne(*c, [](TestStream& s) {
    s.path = "/admin";
    s.metadata["remora.original_path"] = "/public/%2e%2e/admin";
  });
  logOne(*c, [](TestStream& s) { s.metadata["remora.original_path"] = s.path; });
  auto got = waitForLines(log_path_, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find(R"("path":"/admin","original_path":"/public/%2e%2e/admin",)"),
            std::string::npos)
      << got[0];
  EXPECT_EQ(got[1].find("original_path"), std::string::npos) << got[1];
}

TEST_F(AccessLogFilter, ControlBytesNeverSplitALine) {
  auto c = config({{"text_format", "%REQ(X-EVIL)%"}});
  logOne(*c, [](TestStream& s) { s.request_headers.add("x-evil", "a\nforged line\x01"); });
  auto got = waitForLines(log_path_, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "a?forged line?");
}

TEST_F(AccessLogFilter, DefaultTextFormatIsEnvoyLike) {
  auto c = config(nlohmann::json::object());
  logOne(*c);
  auto got = waitForLines(log_path_, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0],
            "[2023-11-14T22:13:20.000Z] \"POST /api/items?id=7 HTTP/1.1\" 201 - 17 2048 42 \"-\" "
            "\"curl/8\" \"req-123\" \"api.example\" \"127.0.0.1:8080\"");
}

TEST_F(AccessLogFilter, JsonFormatHasTheFixedFields) {
  auto c = config({{"format", "json"}});
  logOne(*c, [](TestStream& s) {
    s.metadata["principal"] = "svc-\"a\"";
    s.metadata["remora.chain"] = "auth,router";
  });
  logOne(*c, [](TestStream& s) {
    s.request_headers.remove("x-request-id");
    s.upstream_address.clear();
    s.path = "/caf\xc3\xa9/\xff";
  });
  auto got = waitForLines(log_path_, 2);
  ASSERT_EQ(got.size(), 2u);
  nlohmann::json a = nlohmann::json::parse(got[0]);
  EXPECT_EQ(a, nlohmann::json::parse(R"({"time": "2023-11-14T22:13:20.000Z", "method": "POST",
      "path": "/api/items?id=7", "status": 201, "bytes_in": 17, "bytes_out": 2048,
      "duration_ms": 42, "upstream": "127.0.0.1:8080", "flags": "-", "request_id": "req-123",
      "principal": "svc-\"a\"", "chain": "auth,router"})"));
  nlohmann::json b = nlohmann::json::parse(got[1]);
  EXPECT_TRUE(b["upstream"].is_null());
  EXPECT_TRUE(b["request_id"].is_null());
  EXPECT_TRUE(b["principal"].is_null());
  EXPECT_FALSE(b.contains("chain"));
  EXPECT_EQ(b["path"], "/caf\xc3\xa9/\xef\xbf\xbd") << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(b["time"], "2023-11-14T22:13:20.042Z");
}

TEST_F(AccessLogFilter, TwoConfigsShareOneFile) {
  auto a = config({{"text_format", "a"}});
  auto b = config({{"text_format", "b"}});
  for (int i = 0; i < 50; ++i) {
    logOne(*a);
    logOne(*b);
  }
  auto got = waitForLines(log_path_, 100);
  ASSERT_EQ(got.size(), 100u);
  for (const std::string& l : got) EXPECT_TRUE(l == "a" || l == "b") << l;
}

TEST_F(AccessLogFilter, ReopensTheFileOnTheReopenTopic) {
  auto c = config({{"text_format", "%REQ_ID%"}});
  EXPECT_EQ(host_.subscriberCount("remora.reopen_logs"), 1u);
  logOne(*c, [](TestStream& s) { s.request_headers.set("x-request-id", "before"); });
  ASSERT_EQ(waitForLines(log_path_, 1).size(), 1u);
  std::string rotated = log_path_ + ".1";
  ASSERT_EQ(std::rename(log_path_.c_str(), rotated.c_str()), 0);
  host_.publish("remora.reopen_logs", "");
  logOne(*c, [](TestStream& s) { s.request_headers.set("x-request-id", "after"); });
  EXPECT_EQ(waitForLines(log_path_, 1), std::vector<std::string>{"after"});
  EXPECT_EQ(lines(readFile(rotated)), std::vector<std::string>{"before"});
}

TEST_F(AccessLogFilter, ManyLinesArriveWholeAndInOrder) {
  auto c = config({{"text_format", "%REQ_ID% %REQ(USER-AGENT)%"}});
  constexpr int kLines = 3000;  // several batches, well under the queue bound
  for (int i = 0; i < kLines; ++i) {
    logOne(*c, [i](TestStream& s) { s.request_headers.set("x-request-id", std::to_string(i)); });
  }
  auto got = waitForLines(log_path_, kLines);
  ASSERT_EQ(got.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) ASSERT_EQ(got[i], std::to_string(i) + " curl/8");
}

// A lone line on a quiet proxy is not held until the buffer fills: it goes out once the flush
// interval has passed.
TEST_F(AccessLogFilter, ALoneLineIsFlushedWithinTheFlushInterval) {
  auto c = config({{"text_format", "%REQ_ID%"}, {"flush_interval", "300ms"}});
  auto start = std::chrono::steady_clock::now();
  logOne(*c);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(readFile(log_path_), "") << "buffered, not one write per line";
  EXPECT_EQ(waitForLines(log_path_, 1), std::vector<std::string>{"req-123"});
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

TEST_F(AccessLogFilter, AFullBufferIsWrittenBeforeTheFlushInterval) {
  auto c = config(
      {{"text_format", std::string(100, 'x')}, {"flush_interval", "10s"}, {"buffer_size", 1000}});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) logOne(*c);  // 1010 bytes: past the threshold
  EXPECT_GE(waitForLines(log_path_, 10).size(), 10u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(AccessLogFilter, StopWritesWhatIsBuffered) {
  auto c = config({{"text_format", "%REQ_ID%"}, {"flush_interval", "10s"}});
  logOne(*c);
  logOne(*c, [](TestStream& s) { s.request_headers.set("x-request-id", "last"); });
  auto start = std::chrono::steady_clock::now();
  host_.descriptor().stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(lines(readFile(log_path_)), (std::vector<std::string>{"req-123", "last"}));
}

// A log reader that stops reading (a full pipe, a stuck collector) must cost log lines, never a
// blocked worker: the buffer fills, lines are dropped and counted, and once the reader is back
// every line that was not dropped arrives.
TEST_F(AccessLogFilter, StuckOutputDropsAndCountsInsteadOfBlocking) {
  std::string fifo = dir_.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(rd, 0);
  auto c = config({{"path", fifo}, {"text_format", std::string(100, 'x')}});
  constexpr int kLines = 20000;  // > pipe buffer + writer batch + queue (8192 each)
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) host_.newStream(*c);  // each logs on destruction
  auto elapsed = std::chrono::steady_clock::now() - start;
  int64_t dropped = host_.metricValue("access_log_dropped_total");
  EXPECT_GT(dropped, 0);
  EXPECT_LT(elapsed, 5s);

  // Drain the pipe until the writer closes it (config freed, queue written).
  size_t received = 0;
  std::thread reader([&] {
    char buf[65536];
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{rd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(rd, buf, sizeof(buf));
      if (n == 0) break;  // EOF: the writer closed its end
      for (ssize_t i = 0; i < n; ++i) received += buf[i] == '\n';
    }
  });
  c.reset();
  // stop() writes what is queued, then joins; the last reference to the sink closes the fifo.
  host_.descriptor().stop();
  reader.join();
  ::close(rd);
  EXPECT_EQ(static_cast<int64_t>(received) + dropped, kLines);
  // The fixture's host calls stop again on teardown: a second stop is harmless.
}

TEST_F(AccessLogFilter, RejectionsNameTheField) {
  EXPECT_EQ(reject({{"format", "xml"}}), "format: must be \"text\" or \"json\", got \"xml\"");
  EXPECT_EQ(reject({{"format", "json"}, {"text_format", "%REQ_ID%"}}),
            "text_format: only applies to format \"text\"");
  EXPECT_EQ(reject({{"text_format", "%FOO%"}}), "text_format: unknown command %FOO% at offset 0");
  EXPECT_EQ(reject({{"text_format", "a %REQ()%"}}),
            "text_format: %REQ(...)% needs an argument at offset 2");
  EXPECT_EQ(reject({{"text_format", "%DURATION(ms)%"}}),
            "text_format: %DURATION% takes no argument at offset 0");
  EXPECT_EQ(reject({{"text_format", "%RESP(:STATUS)%"}}),
            "text_format: unsupported pseudo-header :STATUS in %RESP% at offset 0");
  EXPECT_EQ(reject({{"text_format", "50% off"}}),
            "text_format: unterminated or malformed command at offset 2");
  EXPECT_EQ(reject({{"text_format", "%REQ_ID"}}),
            "text_format: unterminated or malformed command at offset 0");
  EXPECT_EQ(reject({{"path", dir_.file("no/such/dir/log")}}),
            "path: cannot open '" + dir_.file("no/such/dir/log") + "': No such file or directory");
  EXPECT_EQ(reject({{"path", 3}}), "path: must be a file path or \"stdout\", got 3");
  EXPECT_EQ(reject({{"flush_interval", "soon"}}),
            "flush_interval: must be a duration like \"1s\" or \"250ms\", got \"soon\"");
  EXPECT_EQ(reject({{"flush_interval", "1m"}}), "flush_interval: must be at most 10s, got \"1m\"");
  EXPECT_EQ(reject({{"buffer_size", 0}}),
            "buffer_size: must be a number of bytes from 1 to 4194304, got 0");
  EXPECT_EQ(reject({{"buffer_size", "64k"}}),
            "buffer_size: must be a number of bytes from 1 to 4194304, got \"64k\"");
  EXPECT_EQ(reject({{"file", "x"}}), "file: unknown field");
}

TEST_F(AccessLogFilter, StdoutIsTheDefault) {
  EXPECT_NE(host_.newConfig("{}"), nullptr);
  EXPECT_NE(host_.newConfig(R"({"path": "stdout"})"), nullptr);
}

}  // namespace
}  // namespace remora::test
