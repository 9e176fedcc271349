#pragma once
// The kernel's own logs go through spdlog. Access logs are a filter, not this.

#include <spdlog/spdlog.h>

namespace remora::log {

// Called once by main before any thread starts.
void init(const std::string& level);

}  // namespace remora::log
