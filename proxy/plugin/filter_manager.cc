#include "plugin/filter_manager.h"

#include <spdlog/spdlog.h>

namespace remora::plugin {
namespace {

thread_local std::string_view t_current_plugin;

}  // namespace

std::string_view FilterManager::currentPlugin() {
  return t_current_plugin;
}

void FilterManager::begin(std::shared_ptr<const FilterChain> chain, size_t worker,
                          remora_stream_t* handle, std::string_view path) {
  end(nullptr);
  chain_ = std::move(chain);
  handle_ = handle;
  worker_ = worker;
  next_ = 0;
  paused_ = false;
  failed_ = {};
  ctx_.assign(chain_->entries.size(), nullptr);
  skip_ = chain_->overrides.empty() ? 0 : chain_->skipMask(path.substr(0, path.find('?')));
  for (size_t i = 0; i < chain_->entries.size(); ++i) {
    if (skipped(i)) continue;
    const FilterEntry& e = *chain_->entries[i];
    e.generation().inflight(worker).add();
    if (e.hooks().stream_new != nullptr) {
      t_current_plugin = e.generation().name();
      ctx_[i] = e.hooks().stream_new(e.config(), handle);
      t_current_plugin = {};
    }
  }
}

template <typename Call>
ChainResult FilterManager::call(size_t i, Call&& fn) {
  const FilterEntry& e = *chain_->entries[i];
  std::string_view outer = t_current_plugin;
  t_current_plugin = e.generation().name();
  ++depth_;
  remora_status_t st = fn(e.hooks(), ctx_[i]);
  --depth_;
  t_current_plugin = outer;
  switch (st) {
    case REMORA_CONTINUE:
      return ChainResult::kContinue;
    case REMORA_STOP:
      return ChainResult::kStop;
    case REMORA_REPLIED:
      return ChainResult::kReplied;
    default:
      e.generation().errors(worker_).inc();
      failed_ = e.generation().name();
      return ChainResult::kError;
  }
}

ChainResult FilterManager::requestHeaders(bool end_stream) {
  paused_ = false;
  for (; next_ < ctx_.size(); ++next_) {
    auto hook = chain_->entries[next_]->hooks().on_request_headers;
    if (hook == nullptr || skipped(next_)) continue;
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
    Hook hook = chain_->entries[i]->hooks().*member;
    if (hook == nullptr || skipped(i)) continue;
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
    const FilterEntry& e = *chain->entries[i];
    t_current_plugin = e.generation().name();
    if (log_handle != nullptr && e.hooks().on_log != nullptr) e.hooks().on_log(ctx_[i], log_handle);
    if (e.hooks().stream_free != nullptr && ctx_[i] != nullptr) e.hooks().stream_free(ctx_[i]);
    t_current_plugin = {};
    e.generation().inflight(worker_).sub();
  }
  ctx_.clear();
  paused_ = false;
}

}  // namespace remora::plugin
