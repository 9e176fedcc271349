// remora: the sidecar proxy's entry point — flags, config loading, and the Server.

#include <cstdio>
#include <cstring>
#include <string>

#include "common/logging.h"
#include "config/loader.h"
#include "kernel/server.h"
#include "kernel/validate.h"

namespace {

constexpr char kUsage[] =
    "Usage: remora --config FILE [--validate] [--log-level LEVEL]\n"
    "       remora --version | --help\n"
    "\n"
    "  --config FILE      YAML config (see docs/configuration.md)\n"
    "  --validate         check the config, print every error with its field path, and exit\n"
    "                     (0 valid, 1 invalid), like nginx -t\n"
    "  --log-level LEVEL  trace|debug|info|warn|error|critical|off (overrides log_level)\n"
    "  --version          print the version and exit\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads the config file.\n"
    "The file is also watched (config_watch) and PUT /config on the admin listener\n"
    "pushes a new config (see docs/configuration.md).\n";

// Every error on its own line, as the stage that found it worded it.
void printInvalid(const std::string& path, const remora::FieldErrors& errors) {
  std::fprintf(stderr, "remora: %s is invalid:\n", path.c_str());
  for (const remora::FieldError& e : errors) std::fprintf(stderr, "%s\n", e.asWritten().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string log_level;
  bool validate = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("remora %s\n", REMORA_VERSION);
      return 0;
    } else if (arg == "--validate" || arg == "-t") {
      validate = true;
    } else if ((arg == "--config" || arg == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--log-level" && i + 1 < argc) {
      log_level = argv[++i];
    } else {
      std::fprintf(stderr, "remora: unknown or incomplete argument: %s\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "remora: --config FILE is required\n\n%s", kUsage);
    return 2;
  }
  auto loaded = remora::config::loadFromFile(config_path);
  if (!loaded) {
    printInvalid(config_path, loaded.error());
    return 1;
  }
  remora::log::init(log_level.empty() ? (validate ? "warn" : loaded->log_level) : log_level);
  if (validate) {
    for (auto check : {remora::validateAdmin, remora::validateTls, remora::validatePlugins}) {
      remora::ConfigStatus status = check(loaded.value());
      if (!status) {
        printInvalid(config_path, status.error());
        return 1;
      }
    }
    std::printf("remora: %s is valid\n", config_path.c_str());
    return 0;
  }
  remora::Server server(config_path, std::move(loaded.value()));
  return server.run();
}
