#pragma once
// The Remora filter SDK: write a filter as two small C++ classes and one macro.
//
//   class MyConfig {  // built once per config push, immutable afterwards
//    public:
//     static std::unique_ptr<MyConfig> create(const nlohmann::json& json,
//                                             remora::sdk::ConfigContext& ctx, std::string& error);
//   };
//   class MyFilter : public remora::sdk::Filter {  // one per stream
//    public:
//     explicit MyFilter(const MyConfig& config);  // or (const MyConfig&, remora::sdk::Stream)
//     Status onRequestHeaders(bool end_stream) override;
//   };
//   REMORA_FILTER_PLUGIN("my_filter", "1.0.0", 100, MyConfig, MyFilter)
//
// The macro defines the one exported symbol, `remora_plugin_descriptor`, whose hooks are static
// trampolines that turn the C calls into C++ calls and catch every exception: nothing throws
// across the C boundary. A hook the Filter does not override is left NULL in the descriptor, so
// the kernel does not even call it.
//
// Optional plugin lifecycle (main thread), as static members of the Config class:
//   static bool onPluginStart(std::string& error);  // after the host table is stored
//   static void onPluginStop();                     // before the host table is dropped
//
// Optional state hand-off (ABI 1.1), as const members of the Config class. When a config push
// replaces this filter's chain entry (new build or new config), the kernel calls exportState()
// on the old Config and importState() on the new one, on every worker thread in turn, with no
// stream running in between on that worker: each call moves the calling worker's share (e.g. its
// PerWorker instance). The bytes are the plugin's own format; version it, since the old and new
// Config may come from different builds, and ignore what you do not understand.
//   std::string exportState() const;
//   void importState(std::string_view state) const;

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "remora/sdk/host.h"
#include "remora/sdk/metrics.h"
#include "remora/sdk/stream.h"

namespace remora::sdk {

// What a stream hook tells the kernel.
enum class Status {
  // Go on to the next filter.
  kContinue = REMORA_CONTINUE,
  // Pause the stream here; the filter later calls stream().resume() or sendLocalReply() from
  // the stream's worker (typically in an httpCall callback).
  kStop = REMORA_STOP,
  // The hook already answered with stream().sendLocalReply(): the rest of the chain is skipped.
  kReplied = REMORA_REPLIED,
  // The hook failed: the kernel answers 500 (or resets) and counts the error.
  kError = REMORA_ERROR,
};

// The answer to an httpCall, borrowed for the duration of the callback.
class CalloutResponse {
 public:
  CalloutResponse(int status, const remora_header_t* headers, size_t count, remora_str_t body)
      : status_(status), headers_(headers), count_(count), body_(toView(body)) {}

  // The HTTP status, or 0 when the call failed (connect error, timeout): body() says why.
  int status() const { return status_; }
  bool failed() const { return status_ == 0; }
  std::string_view body() const { return body_; }
  // The response headers, then its trailers (HTTP/2, or HTTP/1.1 chunked), in one list.
  size_t headerCount() const { return count_; }
  Header headerAt(size_t i) const {
    return Header{toView(headers_[i].name), toView(headers_[i].value)};
  }
  // First value of `name`, compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const {
    for (size_t i = 0; i < count_; ++i) {
      std::string_view n = toView(headers_[i].name);
      if (n.size() == name.size() &&
          std::equal(n.begin(), n.end(), name.begin(),
                     [](char a, char b) { return lower(a) == lower(b); })) {
        return toView(headers_[i].value);
      }
    }
    return std::nullopt;
  }

 private:
  static char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

  int status_;
  const remora_header_t* headers_;
  size_t count_;
  std::string_view body_;
};

// Base of every per-stream filter. Created on the stream's worker when the stream starts
// (stream_new), destroyed there after onLog (stream_free). Every hook runs on that worker; the
// default of each is to let the stream through.
class Filter {
 public:
  // So a derived filter can write `Status` in its own namespace without a using-declaration.
  using Status = ::remora::sdk::Status;
  using CalloutCallback = std::function<void(const CalloutResponse&)>;

  Filter() = default;
  virtual ~Filter() = default;
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // Request side, in chain order. `end_stream` is true when no body follows.
  virtual Status onRequestHeaders(bool end_stream) {
    (void)end_stream;
    return Status::kContinue;
  }
  // One body chunk, borrowed for the call. Copy what must outlive it.
  virtual Status onRequestBody(std::string_view chunk, bool end_stream) {
    (void)chunk;
    (void)end_stream;
    return Status::kContinue;
  }
  virtual Status onRequestTrailers() { return Status::kContinue; }
  // Response side, in reverse chain order.
  virtual Status onResponseHeaders(bool end_stream) {
    (void)end_stream;
    return Status::kContinue;
  }
  virtual Status onResponseBody(std::string_view chunk, bool end_stream) {
    (void)chunk;
    (void)end_stream;
    return Status::kContinue;
  }
  virtual Status onResponseTrailers() { return Status::kContinue; }
  // After the stream ended (completed, replied locally or reset); every filter runs it. Request
  // and response facts are still readable here.
  virtual void onLog() {}

  // The stream this filter belongs to. Set before the first hook (and before the constructor
  // body when the Filter takes a Stream argument).
  const Stream& stream() const { return stream_; }

 protected:
  explicit Filter(Stream stream) : stream_(stream) {}

  // Starts an async HTTP/1.1 request to configured `cluster` (worker thread, from a hook or a
  // callback of this stream). Headers and body are copied. `callback` runs later on this worker,
  // exactly once, unless the stream ends first: then the kernel cancels the call and the callback
  // is destroyed with this Filter, never run. Typical use: return Status::kStop from the hook and
  // call stream().resume() or sendLocalReply() in the callback. If the callback throws, the SDK
  // logs it and answers the stream with 500 (or resumes it if a response already started).
  // Returns false if the call could not be started (the callback is dropped).
  bool httpCall(std::string_view cluster, std::string_view method, std::string_view path,
                HeaderList headers, std::string_view body, std::chrono::milliseconds timeout,
                CalloutCallback callback) {
    auto pending = std::make_unique<PendingCallout>(PendingCallout{this, std::move(callback)});
    PendingCallout* raw = pending.get();
    callouts_.push_back(std::move(pending));
    uint32_t timeout_ms =
        timeout.count() <= 0
            ? 0
            : static_cast<uint32_t>(std::min<int64_t>(timeout.count(), UINT32_MAX));
    int started = detail::withAbiHeaders(headers, [&](const remora_header_t* h, size_t n) {
      return detail::g_host->http_call(stream_.raw(), toStr(cluster), toStr(method), toStr(path), h,
                                       n, toStr(body), timeout_ms, &Filter::onCallout, raw);
    });
    if (started == 0) take(raw);
    return started != 0;
  }

  // Callouts started and not yet answered.
  size_t pendingCallouts() const { return callouts_.size(); }

 private:
  friend struct FilterAccess;

  struct PendingCallout {
    Filter* owner;
    CalloutCallback callback;
  };

  std::unique_ptr<PendingCallout> take(PendingCallout* p) {
    for (auto it = callouts_.begin(); it != callouts_.end(); ++it) {
      if (it->get() == p) {
        std::unique_ptr<PendingCallout> owned = std::move(*it);
        callouts_.erase(it);
        return owned;
      }
    }
    return nullptr;
  }

  static void onCallout(void* user, int status, const remora_header_t* headers, size_t count,
                        remora_str_t body) noexcept {
    auto* p = static_cast<PendingCallout*>(user);
    Filter* self = p->owner;
    std::unique_ptr<PendingCallout> owned = self->take(p);
    if (!owned) return;  // not ours any more; the kernel promised this cannot happen
    try {
      owned->callback(CalloutResponse(status, headers, count, body));
    } catch (const std::exception& e) {
      self->calloutFailed(e.what());
    } catch (...) {
      self->calloutFailed("non-standard exception");
    }
  }

  void calloutFailed(const char* what) noexcept {
    log(LogLevel::kError, std::string("callout callback threw: ") + what);
    if (!stream_.sendLocalReply(500, "filter error")) stream_.resume();
  }

  Stream stream_;
  // Owned here so a callout the kernel cancels (stream ended) is freed with the Filter.
  std::vector<std::unique_ptr<PendingCallout>> callouts_;
};

// The SDK's private access to Filter (sets the stream before the first hook).
struct FilterAccess {
  static void attach(Filter& f, Stream s) { f.stream_ = s; }
};

// A Config class the SDK can build: `static create(json, ctx, error)` returning a unique_ptr (or
// anything convertible to one).
template <typename C>
concept FilterConfig = requires(const nlohmann::json& j, ConfigContext& ctx, std::string& err) {
  { C::create(j, ctx, err) } -> std::convertible_to<std::unique_ptr<C>>;
};

// A Filter class the SDK can instantiate per stream.
template <typename F, typename C>
concept StreamFilter = std::derived_from<F, Filter> &&
    (std::constructible_from<F, const C&, Stream> || std::constructible_from<F, const C&>);

namespace detail {

// True when F declares its own `name` hook (its member pointer type then names F, not Filter).
#define REMORA_SDK_OVERRIDES(F, hook) \
  (!std::is_same_v<decltype(&F::hook), decltype(&::remora::sdk::Filter::hook)>)

constexpr bool validPluginName(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok) return false;
  }
  return true;
}

// Runs `fn` (returning remora_status_t) with every exception turned into REMORA_ERROR + a log.
template <typename Fn>
remora_status_t guarded(const char* hook, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string(hook) + " threw: " + e.what());
  } catch (...) {
    log(LogLevel::kError, std::string(hook) + " threw a non-standard exception");
  }
  return REMORA_ERROR;
}

template <typename ConfigT, typename FilterT>
struct Adapter {
  static remora_status_t st(Status s) { return static_cast<remora_status_t>(s); }
  static FilterT* self(void* ctx) { return static_cast<FilterT*>(ctx); }

  static int start(const remora_host_api_t* host) noexcept {
    if (host == nullptr) return 0;
    if (!REMORA_FILTER_ABI_COMPATIBLE(host->abi_major, host->abi_minor, REMORA_FILTER_ABI_MAJOR,
                                      REMORA_FILTER_ABI_MINOR) ||
        host->struct_size < kHostApiBaseSize) {
      // No host table to log through: the kernel reports the refused start itself.
      return 0;
    }
    g_host = host;
    if constexpr (requires(std::string & e) { ConfigT::onPluginStart(e); }) {
      std::string error;
      bool ok = false;
      try {
        ok = ConfigT::onPluginStart(error);
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "non-standard exception";
      }
      if (!ok) {
        log(LogLevel::kError, "plugin start failed: " + (error.empty() ? "no reason" : error));
        g_host = nullptr;
        return 0;
      }
    }
    return 1;
  }

  static void stop() noexcept {
    if constexpr (requires { ConfigT::onPluginStop(); }) {
      try {
        ConfigT::onPluginStop();
      } catch (const std::exception& e) {
        log(LogLevel::kError, std::string("plugin stop threw: ") + e.what());
      } catch (...) {
        log(LogLevel::kError, "plugin stop threw a non-standard exception");
      }
    }
    g_host = nullptr;
  }

  static void* configNew(remora_config_ctx_t* c, remora_str_t json, char* err,
                         size_t err_len) noexcept {
    try {
      std::string_view text = toView(json);
      nlohmann::json j = text.find_first_not_of(" \t\r\n") == std::string_view::npos
                             ? nlohmann::json::object()
                             : nlohmann::json::parse(text);
      ConfigContext ctx(c);
      std::string error;
      std::unique_ptr<ConfigT> config = ConfigT::create(j, ctx, error);
      if (!config) {
        writeError(err, err_len, error.empty() ? "config rejected" : error);
        return nullptr;
      }
      return static_cast<void*>(config.release());
    } catch (const nlohmann::json::parse_error& e) {
      writeError(err, err_len, std::string("invalid JSON: ") + e.what());
    } catch (const std::exception& e) {
      writeError(err, err_len, e.what());
    } catch (...) {
      writeError(err, err_len, "config rejected: non-standard exception");
    }
    return nullptr;
  }

  static void configFree(void* config) noexcept {
    try {
      delete static_cast<ConfigT*>(config);
    } catch (...) {
    }
  }

  // A NULL result means the Filter could not be built; every hook then fails the stream.
  static void* streamNew(void* config, remora_stream_t* s) noexcept {
    try {
      const ConfigT& c = *static_cast<const ConfigT*>(config);
      FilterT* f = nullptr;
      if constexpr (std::constructible_from<FilterT, const ConfigT&, Stream>) {
        f = new FilterT(c, Stream(s));
      } else {
        f = new FilterT(c);
      }
      FilterAccess::attach(*f, Stream(s));
      return static_cast<void*>(f);
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("creating the stream filter threw: ") + e.what());
    } catch (...) {
      log(LogLevel::kError, "creating the stream filter threw a non-standard exception");
    }
    return nullptr;
  }

  static void streamFree(void* ctx) noexcept {
    try {
      delete self(ctx);
    } catch (...) {
    }
  }

  static remora_status_t onRequestHeaders(void* ctx, remora_stream_t*, int end) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onRequestHeaders", [&] { return st(self(ctx)->onRequestHeaders(end != 0)); });
  }
  static remora_status_t onRequestBody(void* ctx, remora_stream_t*, remora_str_t chunk,
                                       int end) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onRequestBody",
                   [&] { return st(self(ctx)->onRequestBody(toView(chunk), end != 0)); });
  }
  static remora_status_t onRequestTrailers(void* ctx, remora_stream_t*) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onRequestTrailers", [&] { return st(self(ctx)->onRequestTrailers()); });
  }
  static remora_status_t onResponseHeaders(void* ctx, remora_stream_t*, int end) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onResponseHeaders", [&] { return st(self(ctx)->onResponseHeaders(end != 0)); });
  }
  static remora_status_t onResponseBody(void* ctx, remora_stream_t*, remora_str_t chunk,
                                        int end) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onResponseBody",
                   [&] { return st(self(ctx)->onResponseBody(toView(chunk), end != 0)); });
  }
  static remora_status_t onResponseTrailers(void* ctx, remora_stream_t*) noexcept {
    if (ctx == nullptr) return REMORA_ERROR;
    return guarded("onResponseTrailers", [&] { return st(self(ctx)->onResponseTrailers()); });
  }
  static void onLog(void* ctx, remora_stream_t*) noexcept {
    if (ctx == nullptr) return;
    guarded("onLog", [&] {
      self(ctx)->onLog();
      return REMORA_CONTINUE;
    });
  }

  static int stateExport(void* config, void (*write)(void*, const char*, size_t),
                         void* sink) noexcept {
    try {
      std::string bytes = static_cast<const ConfigT*>(config)->exportState();
      write(sink, bytes.data(), bytes.size());
      return 1;
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("exportState threw: ") + e.what());
    } catch (...) {
      log(LogLevel::kError, "exportState threw a non-standard exception");
    }
    return 0;
  }

  static int stateImport(void* config, remora_str_t state) noexcept {
    try {
      static_cast<const ConfigT*>(config)->importState(toView(state));
      return 1;
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("importState threw: ") + e.what());
    } catch (...) {
      log(LogLevel::kError, "importState threw a non-standard exception");
    }
    return 0;
  }

  static constexpr remora_plugin_descriptor_t make(const char* name, const char* version,
                                                   int32_t priority) {
    remora_plugin_descriptor_t d{};
    d.struct_size = sizeof(remora_plugin_descriptor_t);
    d.abi_major = REMORA_FILTER_ABI_MAJOR;
    d.abi_minor = REMORA_FILTER_ABI_MINOR;
    d.name = name;
    d.version = version;
    d.priority = priority;
    d.start = &start;
    d.stop = &stop;
    d.config_new = &configNew;
    d.config_free = &configFree;
    d.stream_new = &streamNew;
    d.stream_free = &streamFree;
    d.on_request_headers =
        REMORA_SDK_OVERRIDES(FilterT, onRequestHeaders) ? &onRequestHeaders : nullptr;
    d.on_request_body = REMORA_SDK_OVERRIDES(FilterT, onRequestBody) ? &onRequestBody : nullptr;
    d.on_request_trailers =
        REMORA_SDK_OVERRIDES(FilterT, onRequestTrailers) ? &onRequestTrailers : nullptr;
    d.on_response_headers =
        REMORA_SDK_OVERRIDES(FilterT, onResponseHeaders) ? &onResponseHeaders : nullptr;
    d.on_response_body = REMORA_SDK_OVERRIDES(FilterT, onResponseBody) ? &onResponseBody : nullptr;
    d.on_response_trailers =
        REMORA_SDK_OVERRIDES(FilterT, onResponseTrailers) ? &onResponseTrailers : nullptr;
    d.on_log = REMORA_SDK_OVERRIDES(FilterT, onLog) ? &onLog : nullptr;
    if constexpr (requires(const ConfigT& c) {
                    { c.exportState() } -> std::convertible_to<std::string>;
                  })
      d.state_export = &stateExport;
    if constexpr (requires(const ConfigT& c, std::string_view v) { c.importState(v); })
      d.state_import = &stateImport;
    return d;
  }
};

}  // namespace detail
}  // namespace remora::sdk

// Defines the plugin's exported `remora_plugin_descriptor` for ConfigT/FilterT. Use once per
// plugin, at global namespace scope, in one .cc file. `name` must be a string literal matching
// [a-z0-9_]+; `version` is free text; `priority` orders the chain when the config does not
// (lower runs first on requests).
#define REMORA_FILTER_PLUGIN(name, version, priority, ConfigT, FilterT)                        \
  static_assert(::remora::sdk::detail::validPluginName(name),                                  \
                "REMORA_FILTER_PLUGIN: the name must match [a-z0-9_]+");                       \
  static_assert(::remora::sdk::FilterConfig<ConfigT>,                                          \
                "REMORA_FILTER_PLUGIN: " #ConfigT " needs static std::unique_ptr<" #ConfigT    \
                "> create(const nlohmann::json&, remora::sdk::ConfigContext&, std::string&)"); \
  static_assert(::remora::sdk::StreamFilter<FilterT, ConfigT>,                                 \
                "REMORA_FILTER_PLUGIN: " #FilterT                                              \
                " must derive from remora::sdk::Filter and "                                   \
                "be constructible from (const " #ConfigT "&[, remora::sdk::Stream])");         \
  extern "C" __attribute__((visibility("default"))) const remora_plugin_descriptor_t*          \
  remora_plugin_descriptor(void) {                                                             \
    static constexpr remora_plugin_descriptor_t kDescriptor =                                  \
        ::remora::sdk::detail::Adapter<ConfigT, FilterT>::make(name, version, priority);       \
    return &kDescriptor;                                                                       \
  }
