#include "plugin/state_handoff.h"

#include <spdlog/spdlog.h>

#include <string>

#include "plugin/filter_chain.h"
#include "plugin/plugin_scope.h"

namespace remora::plugin {
namespace {

void appendBytes(void* sink, const char* data, size_t len) {
  if (len > 0) static_cast<std::string*>(sink)->append(data, len);
}

}  // namespace

void StateHandoff::run(size_t worker) {
  std::string bytes;
  for (const Pair& p : pairs_) {
    bytes.clear();
    const remora_plugin_descriptor_t& from = p.from->gen->descriptor();
    const remora_plugin_descriptor_t& to = p.to->gen->descriptor();
    PluginScope scope(p.to->gen->name(), p.to->gen->host());
    if (from.state_export(p.from->config, &appendBytes, &bytes) == 0) {
      spdlog::warn("plugin {} generation {}: state export failed on worker {}", p.from->gen->name(),
                   p.from->gen->generation(), worker);
      continue;
    }
    if (to.state_import(p.to->config, remora_str_t{bytes.data(), bytes.size()}) == 0)
      spdlog::warn("plugin {} generation {}: state import failed on worker {}", p.to->gen->name(),
                   p.to->gen->generation(), worker);
  }
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    spdlog::debug("state of {} chain entr{} handed over", pairs_.size(),
                  pairs_.size() == 1 ? "y" : "ies");
    pairs_.clear();  // every worker is done: let the old entries go
  }
}

}  // namespace remora::plugin
