// hello: the smallest useful Remora filter. Adds `x-hello: <greeting>` to every response and
// answers `GET /hello` itself.
//
// Config: {"greeting": "text"} (default "hello").

#include <remora/sdk/config_reader.h>
#include <remora/sdk/filter.h>

#include <memory>
#include <string>

namespace hello {

using remora::sdk::Status;

class Config {
 public:
  static std::unique_ptr<Config> create(const nlohmann::json& json, remora::sdk::ConfigContext& ctx,
                                        std::string& error) {
    if (!remora::sdk::checkObject(json, "", {"greeting"}, error)) return nullptr;
    auto config = std::make_unique<Config>();
    if (json.contains("greeting")) {
      if (!json["greeting"].is_string()) {
        error = "greeting: must be a string, got " + remora::sdk::describeJson(json["greeting"]);
        return nullptr;
      }
      config->greeting = json["greeting"].get<std::string>();
    }
    config->replies = ctx.counter("hello_replies_total", "Requests answered by the hello filter");
    return config;
  }

  std::string greeting = "hello";
  remora::sdk::Counter replies;
};

class Filter : public remora::sdk::Filter {
 public:
  explicit Filter(const Config& config) : config_(config) {}

  Status onRequestHeaders(bool) override {
    if (stream().method() != "GET" || stream().path() != "/hello") return Status::kContinue;
    config_.replies.inc(stream());
    stream().sendLocalReply(200, config_.greeting + "\n", {{"content-type", "text/plain"}});
    return Status::kReplied;
  }

  Status onResponseHeaders(bool) override {
    stream().setResponseHeader("x-hello", config_.greeting);
    return Status::kContinue;
  }

 private:
  const Config& config_;
};

}  // namespace hello

REMORA_FILTER_PLUGIN("hello", "1.0.0", 500, hello::Config, hello::Filter)
