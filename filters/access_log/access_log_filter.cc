// access_log: one line per finished stream, Envoy-style text or JSON, to a file or stdout,
// written by a background thread so a worker never waits on I/O.
//
// Config (see README.md):
//   {"path": "/var/log/remora/access.log",   // or "stdout" (default)
//    "format": "text" | "json",               // default text
//    "text_format": "[%START_TIME%] ...",     // text only; default: Envoy's default format
//    "flush_interval": "100ms",                // longest a line waits in the buffer
//    "buffer_size": 65536}                     // bytes that trigger a write before that

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "log_format.h"
#include "log_writer.h"

namespace remora::filters::access_log {

namespace sdk = remora::sdk;

// The kernel publishes this on SIGUSR1, after logrotate moved the files away.
constexpr std::string_view kReopenTopic = "remora.reopen_logs";
// Past this a buffered line is more likely lost in a crash than worth the saved syscalls.
constexpr std::chrono::microseconds kMaxFlushInterval = std::chrono::seconds(10);

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext& ctx,
                                        std::string& error) {
    if (!sdk::checkObject(
            json, "", {"path", "format", "text_format", "flush_interval", "buffer_size"}, error))
      return nullptr;
    auto c = std::make_unique<Config>();
    std::string path = "stdout";
    if (json.contains("path")) {
      if (!json["path"].is_string() || json["path"].get<std::string>().empty()) {
        error = "path: must be a file path or \"stdout\", got " + sdk::describeJson(json["path"]);
        return nullptr;
      }
      path = json["path"].get<std::string>();
    }
    std::string format = "text";
    if (json.contains("format")) {
      const nlohmann::json& f = json["format"];
      if (!f.is_string() || (f.get<std::string>() != "text" && f.get<std::string>() != "json")) {
        error = "format: must be \"text\" or \"json\", got " + sdk::describeJson(f);
        return nullptr;
      }
      format = f.get<std::string>();
    }
    c->json = format == "json";
    std::string text_format(kDefaultTextFormat);
    if (json.contains("text_format")) {
      if (c->json) {
        error = "text_format: only applies to format \"text\"";
        return nullptr;
      }
      if (!json["text_format"].is_string()) {
        error = "text_format: must be a string, got " + sdk::describeJson(json["text_format"]);
        return nullptr;
      }
      text_format = json["text_format"].get<std::string>();
    }
    std::string format_error;
    std::optional<TextFormat> parsed = TextFormat::parse(text_format, format_error);
    if (!parsed) {
      error = "text_format: " + format_error;
      return nullptr;
    }
    c->text = std::move(*parsed);
    std::chrono::microseconds flush_interval = LogWriter::kDefaultFlushInterval;
    if (json.contains("flush_interval")) {
      std::optional<std::chrono::microseconds> d =
          sdk::durationField(json["flush_interval"], "flush_interval", error);
      if (!d) return nullptr;
      if (*d > kMaxFlushInterval) {
        error =
            "flush_interval: must be at most 10s, got " + sdk::describeJson(json["flush_interval"]);
        return nullptr;
      }
      flush_interval = *d;
    }
    size_t buffer_size = LogWriter::kDefaultBufferSize;
    if (json.contains("buffer_size")) {
      const nlohmann::json& b = json["buffer_size"];
      if (!b.is_number_unsigned() || b.get<uint64_t>() == 0 ||
          b.get<uint64_t>() > LogWriter::kMaxBytes) {
        error = "buffer_size: must be a number of bytes from 1 to " +
                std::to_string(LogWriter::kMaxBytes) + ", got " + sdk::describeJson(b);
        return nullptr;
      }
      buffer_size = b.get<size_t>();
    }
    std::string sink_error;
    c->sink = LogWriter::instance().sink(path, sink_error);
    if (!c->sink) {
      error = "path: " + sink_error;
      return nullptr;
    }
    c->dropped = ctx.counter("access_log_dropped_total",
                             "Access log lines dropped because the write buffer was full");
    LogWriter::instance().tune(c.get(), flush_interval, buffer_size);
    return c;
  }

  static bool onPluginStart(std::string&) {
    LogWriter::instance().start();
    reopen() = sdk::Subscription::subscribe(kReopenTopic, [](std::string_view, std::string_view) {
      LogWriter::instance().requestReopen();
    });
    return true;
  }

  static void onPluginStop() {
    reopen().reset();
    LogWriter::instance().stop();
  }

  ~Config() { LogWriter::instance().untune(this); }

  bool json = false;
  TextFormat text;
  std::shared_ptr<Sink> sink;
  sdk::Counter dropped;

 private:
  // Made and dropped on the main thread (start/stop), as Subscription requires.
  static sdk::Subscription& reopen() {
    static sdk::Subscription s;
    return s;
  }
};

class Filter final : public sdk::Filter {
 public:
  explicit Filter(const Config& config) : config_(config) {}

  void onLog() override {
    // The line is copied into the writer's queue, so this buffer is allocated and freed on the
    // worker (a thread-cache hit). Not a thread_local: its destructor would pin the plugin's
    // code in memory (glibc refuses to dlclose it) until every worker thread exits.
    std::string line;
    line.reserve(512);
    uint64_t now = sdk::nowUnixUs();
    if (config_.json) {
      renderJson(stream(), now, line);
    } else {
      config_.text.render(stream(), now, line);
    }
    line += '\n';
    if (!LogWriter::instance().enqueue(config_.sink, line)) {
      config_.dropped.inc(stream());
    }
  }

 private:
  const Config& config_;
};

}  // namespace remora::filters::access_log

REMORA_FILTER_PLUGIN("access_log", "1.0.0", 0, remora::filters::access_log::Config,
                     remora::filters::access_log::Filter)
