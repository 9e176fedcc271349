#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace remora::log {

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("remora");
  logger->set_pattern("[%Y-%m-%dT%H:%M:%S.%e] [%l] [%t] %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace remora::log
