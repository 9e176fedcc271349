#pragma once
// FilterManager: runs one stream through its listener's filter chain — stream_new/stream_free per
// filter, request hooks in chain order, response hooks in reverse, on_log for all at the end.
// A hook returning REMORA_STOP on request headers pauses the chain at that filter; resume()
// continues with the next one. (In ABI 1.0 only request-header hooks may pause; STOP from any
// other hook is treated as CONTINUE and logged once per generation.)
//
// Per stream, each entry runs one build: its own or its canary (FilterEntry::pickCanary), fixed
// at begin() so the stream never mixes them. A failing hook — REMORA_ERROR, or a hook running
// past the entry's hook_budget_ms — is counted against that build; under on_error: fail_open a
// failed hook counts as CONTINUE, under fail_closed the stream fails (500). A quarantined build
// is skipped (fail_open) or fails every new stream with 503 (fail_closed).

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "plugin/filter_chain.h"
#include "plugin/plugin_scope.h"

namespace remora::plugin {

enum class ChainResult { kContinue, kStop, kReplied, kError };

class FilterManager {
 public:
  FilterManager() = default;
  ~FilterManager() { end(nullptr); }

  // Calls stream_new for every filter. `handle` identifies the stream to the plugins.
  // `path` selects the chain's filter_overrides (filters the request skips entirely).
  void begin(std::shared_ptr<const FilterChain> chain, size_t worker, remora_stream_t* handle,
             std::string_view path);
  bool active() const { return chain_ != nullptr; }
  // True while a hook is on the stack (host callbacks may be re-entering the stream).
  bool inHook() const { return depth_ > 0; }
  bool pausedOnHeaders() const { return paused_; }

  // Runs request-header hooks from where the chain stands (the start, or after a pause).
  ChainResult requestHeaders(bool end_stream);
  ChainResult requestBody(std::string_view chunk, bool end_stream);
  ChainResult requestTrailers();
  ChainResult responseHeaders(bool end_stream);
  ChainResult responseBody(std::string_view chunk, bool end_stream);
  ChainResult responseTrailers();

  // Runs on_log for every filter (if `log`), then stream_free; the manager is idle afterwards.
  void end(remora_stream_t* log_handle);

  // The name of the filter that failed last (for the 500 body and the log).
  std::string_view failedFilter() const { return failed_; }
  // The status a failed stream is answered with: 500, or 503 for a quarantined fail_closed entry.
  int failureStatus() const { return failure_status_; }

 private:
  template <typename Call>
  ChainResult call(size_t i, Call&& fn);
  template <typename Hook, typename... Args>
  ChainResult runAll(bool reverse, Hook remora_plugin_descriptor_t::*member, Args... args);

  std::shared_ptr<const FilterChain> chain_;
  std::vector<void*> ctx_;
  remora_stream_t* handle_ = nullptr;
  size_t worker_ = 0;
  size_t next_ = 0;
  uint64_t skip_ = 0;    // entries this stream skips (bit i = entry i)
  uint64_t canary_ = 0;  // entries whose canary build this stream runs
  bool skipped(size_t i) const { return (skip_ >> i) & 1; }
  bool canary(size_t i) const { return (canary_ >> i) & 1; }
  const remora_plugin_descriptor_t& hooks(size_t i) const {
    return chain_->entries[i]->variant(canary(i)).gen->descriptor();
  }
  // A fail_closed entry quarantined at begin(): request headers fail with 503 there.
  size_t blocked_ = SIZE_MAX;
  int failure_status_ = 500;
  int depth_ = 0;
  bool paused_ = false;
  std::string_view failed_;
};

}  // namespace remora::plugin
