#include "http/filter_manager.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include "http/host_api.h"

namespace remora::plugin {
namespace {

// Milliseconds on the coarse monotonic clock: read from the vDSO (no syscall), a few ms of
// resolution, which is what a hook budget in milliseconds needs.
inline int64_t coarseMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

void FilterManager::begin(std::shared_ptr<const FilterChain> chain, size_t worker,
                          remora_stream_t* handle, std::string_view path) {
  end(nullptr);
  chain_ = std::move(chain);
  handle_ = handle;
  worker_ = worker;
  next_ = 0;
  paused_ = false;
  failed_ = {};
  failure_status_ = 500;
  blocked_ = SIZE_MAX;
  canary_ = 0;
  ctx_.assign(chain_->entries.size(), nullptr);
  skip_ = chain_->overrides.empty() ? 0 : chain_->skipMask(path.substr(0, path.find('?')));
  for (size_t i = 0; i < chain_->entries.size(); ++i) {
    if (skipped(i)) continue;
    const FilterEntry& e = *chain_->entries[i];
    bool use_canary = e.hasCanary() && e.pickCanary(worker, hostApi(), handle);
    if (use_canary) canary_ |= uint64_t{1} << i;
    const FilterVariant& v = e.variant(use_canary);
    if (v.quarantined.load(std::memory_order_relaxed)) {
      if (e.onError() == config::OnError::kFailOpen) {
        skip_ |= uint64_t{1} << i;
        continue;
      }
      if (blocked_ == SIZE_MAX) blocked_ = i;
    }
    v.gen->inflight(worker).add();
    v.gen->requests(worker).inc();
    if (v.gen->descriptor().stream_new != nullptr) {
      detail::t_running = {v.gen->name(), v.gen->host()};
      ctx_[i] = v.gen->descriptor().stream_new(v.config, handle);
      detail::t_running = {};
    }
  }
}

template <typename Call>
ChainResult FilterManager::call(size_t i, Call&& fn) {
  const FilterEntry& e = *chain_->entries[i];
  const bool is_canary = canary(i);
  const FilterVariant& v = e.variant(is_canary);
  RunningPlugin outer = detail::t_running;
  detail::t_running = {v.gen->name(), v.gen->host()};
  const uint32_t budget = e.quarantinePolicy().hook_budget_ms;
  const int64_t started = budget > 0 ? coarseMs() : 0;
  ++depth_;
  remora_status_t st = fn(v.gen->descriptor(), ctx_[i]);
  --depth_;
  detail::t_running = outer;
  bool failed = st != REMORA_CONTINUE && st != REMORA_STOP && st != REMORA_REPLIED;
  if (budget > 0 && !failed && coarseMs() - started > int64_t(budget)) {
    // Over budget: the result stands (the work is done), but it counts against the build.
    v.gen->errors(worker_).inc();
    e.recordFailure(is_canary);
  }
  switch (st) {
    case REMORA_CONTINUE:
      return ChainResult::kContinue;
    case REMORA_STOP:
      return ChainResult::kStop;
    case REMORA_REPLIED:
      return ChainResult::kReplied;
    default:
      v.gen->errors(worker_).inc();
      e.recordFailure(is_canary);
      if (e.onError() == config::OnError::kFailOpen) return ChainResult::kContinue;
      failed_ = v.gen->name();
      failure_status_ = 500;
      return ChainResult::kError;
  }
}

ChainResult FilterManager::requestHeaders(bool end_stream) {
  paused_ = false;
  for (; next_ < ctx_.size(); ++next_) {
    if (skipped(next_)) continue;
    if (next_ == blocked_) {
      failed_ = chain_->entries[next_]->variant(canary(next_)).gen->name();
      failure_status_ = 503;
      return ChainResult::kError;
    }
    auto hook = hooks(next_).on_request_headers;
    if (hook == nullptr) continue;
    ChainResult r = call(next_, [&](const remora_plugin_descriptor_t&, void* ctx) {
      return hook(ctx, handle_, end_stream ? 1 : 0);
    });
    if (r == ChainResult::kContinue) continue;
    if (r == ChainResult::kStop) {
      paused_ = true;
      ++next_;
    }
    return r;
  }
  return ChainResult::kContinue;
}

// Runs one hook of every filter, in chain order or reversed; STOP counts as CONTINUE here.
template <typename Hook, typename... Args>
ChainResult FilterManager::runAll(bool reverse, Hook remora_plugin_descriptor_t::*member,
                                  Args... args) {
  for (size_t k = 0; k < ctx_.size(); ++k) {
    size_t i = reverse ? ctx_.size() - 1 - k : k;
    if (skipped(i)) continue;
    Hook hook = hooks(i).*member;
    if (hook == nullptr) continue;
    ChainResult r = call(i, [&](const remora_plugin_descriptor_t&, void* ctx) {
      return hook(ctx, handle_, args...);
    });
    if (r == ChainResult::kReplied || r == ChainResult::kError) return r;
  }
  return ChainResult::kContinue;
}

ChainResult FilterManager::requestBody(std::string_view chunk, bool end_stream) {
  return runAll(false, &remora_plugin_descriptor_t::on_request_body,
                remora_str_t{chunk.data(), chunk.size()}, end_stream ? 1 : 0);
}

ChainResult FilterManager::requestTrailers() {
  return runAll(false, &remora_plugin_descriptor_t::on_request_trailers);
}

ChainResult FilterManager::responseHeaders(bool end_stream) {
  return runAll(true, &remora_plugin_descriptor_t::on_response_headers, end_stream ? 1 : 0);
}

ChainResult FilterManager::responseBody(std::string_view chunk, bool end_stream) {
  return runAll(true, &remora_plugin_descriptor_t::on_response_body,
                remora_str_t{chunk.data(), chunk.size()}, end_stream ? 1 : 0);
}

ChainResult FilterManager::responseTrailers() {
  return runAll(true, &remora_plugin_descriptor_t::on_response_trailers);
}

void FilterManager::end(remora_stream_t* log_handle) {
  if (!chain_) return;
  auto chain = std::move(chain_);
  chain_.reset();
  for (size_t i = 0; i < chain->entries.size(); ++i) {
    if (skipped(i)) continue;
    const FilterVariant& v = chain->entries[i]->variant(canary(i));
    const remora_plugin_descriptor_t& d = v.gen->descriptor();
    detail::t_running = {v.gen->name(), v.gen->host()};
    if (log_handle != nullptr && d.on_log != nullptr) d.on_log(ctx_[i], log_handle);
    if (d.stream_free != nullptr && ctx_[i] != nullptr) d.stream_free(ctx_[i]);
    detail::t_running = {};
    v.gen->inflight(worker_).sub();
  }
  ctx_.clear();
  paused_ = false;
}

}  // namespace remora::plugin
