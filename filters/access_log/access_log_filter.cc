// access_log: one line per finished stream, Envoy-style text or JSON, to a file or stdout,
// written by a background thread so a worker never waits on I/O.
//
// Config (see README.md):
//   {"path": "/var/log/remora/access.log",   // or "stdout" (default)
//    "format": "text" | "json",               // default text
//    "text_format": "[%START_TIME%] ..."}     // text only; default: Envoy's default format

#include <remora/sdk/config_util.h>
#include <remora/sdk/filter.h>

#include <memory>
#include <string>

#include "log_format.h"
#include "log_writer.h"

namespace remora::filters::access_log {

namespace sdk = remora::sdk;

// The kernel publishes this on SIGUSR1, after logrotate moved the files away.
constexpr std::string_view kReopenTopic = "remora.reopen_logs";

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, sdk::ConfigContext& ctx,
                                        std::string& error) {
    if (!sdk::checkObject(json, "", {"path", "format", "text_format"}, error)) return nullptr;
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
    std::string sink_error;
    c->sink = LogWriter::instance().sink(path, sink_error);
    if (!c->sink) {
      error = "path: " + sink_error;
      return nullptr;
    }
    c->dropped = ctx.counter("access_log_dropped_total",
                             "Access log lines dropped because the write buffer was full");
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
    std::string line;
    line.reserve(256);
    uint64_t now = sdk::nowUnixUs();
    if (config_.json) {
      renderJson(stream(), now, line);
    } else {
      config_.text.render(stream(), now, line);
    }
    line += '\n';
    if (!LogWriter::instance().enqueue(config_.sink, std::move(line))) {
      config_.dropped.inc(stream());
    }
  }

 private:
  const Config& config_;
};

}  // namespace remora::filters::access_log

REMORA_FILTER_PLUGIN("access_log", "1.0.0", 0, remora::filters::access_log::Config,
                     remora::filters::access_log::Filter)
