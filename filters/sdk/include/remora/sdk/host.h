#pragma once
// The plugin-wide half of the Remora filter SDK: the host API table the kernel hands a plugin in
// `start`, ABI version checks, string conversions, logging, the event bus and the clock.
//
// Everything here is header-only and lives in the plugin's own .so. The host table pointer is a
// per-plugin global (hidden visibility, so two plugins loaded into one kernel never share it) set
// by the SDK's `start` trampoline and cleared after `stop`.

#if __has_include(<remora_filter.h>)
#include <remora_filter.h>  // in-tree layout: proxy/plugin/abi/remora_filter.h
#else
#include <remora/remora_filter.h>  // installed layout: <prefix>/include/remora/remora_filter.h
#endif

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

// Keeps an SDK symbol private to the plugin even when the plugin is not built with
// -fvisibility=hidden: two plugins must never bind to each other's copy (and default-visibility
// inline statics would become STB_GNU_UNIQUE, which makes dlclose a no-op).
#define REMORA_SDK_HIDDEN __attribute__((visibility("hidden")))

// --- ABI version checks ---------------------------------------------------------------------

// Compile time: fails the build unless the ABI header is MAJOR.y with y >= MINOR. A filter that
// relies on a host call added in ABI 1.3 writes REMORA_FILTER_REQUIRE_ABI(1, 3).
#define REMORA_FILTER_REQUIRE_ABI(major, minor)                                                    \
  static_assert(REMORA_FILTER_ABI_MAJOR == (major) && REMORA_FILTER_ABI_MINOR >= (minor),          \
                "this filter needs the Remora filter ABI " #major "." #minor " or a later " #major \
                ".x")

// Run time: true when a host speaking `host_major.host_minor` can load a plugin built against
// `plugin_major.plugin_minor` (same major, host minor at least the plugin's).
#define REMORA_FILTER_ABI_COMPATIBLE(host_major, host_minor, plugin_major, plugin_minor) \
  ((host_major) == (plugin_major) && (host_minor) >= (plugin_minor))

// Run time: REMORA_HOST_HAS(host, field), true when the host table is long enough to contain
// `field`, comes from remora_filter.h itself, so pure-C plugins probe the same way.

namespace remora::sdk {

// The part of the host table every 1.1 kernel has; calls appended after it (set_upstream_limits,
// ...) are probed with REMORA_HOST_HAS before use, so a filter built against these headers still
// starts on a 1.1 kernel that lacks them.
inline constexpr size_t kHostApiBaseSize = offsetof(remora_host_api_t, set_upstream_limits);

namespace detail {
// Set by the `start` trampoline on the main thread before any other hook runs; read by every
// SDK call. Workers only see streams after start returned, which orders the write before reads.
REMORA_SDK_HIDDEN inline const remora_host_api_t* g_host = nullptr;
}  // namespace detail

// The host table, or nullptr before `start` / after `stop`. Any thread.
inline const remora_host_api_t* hostApi() {
  return detail::g_host;
}

// --- Strings ------------------------------------------------------------------------------------

// A borrowed view as the ABI's pointer+length. Nothing is copied: `v` must outlive the use.
inline remora_str_t toStr(std::string_view v) {
  return remora_str_t{v.data(), v.size()};
}
// The ABI's pointer+length as a view; a NULL data pointer becomes an empty view.
inline std::string_view toView(remora_str_t s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}

// True when the comma-separated response flags `flags` ("UT,URX", "-") hold the code `flag`
// (NUL-terminated) as a whole element; remora_flags_has of the C ABI.
inline bool hasFlag(std::string_view flags, const char* flag) {
  return remora_flags_has(toStr(flags), flag) != 0;
}

// Copies `message` into the C error buffer `err` (capacity `len`), truncated, NUL-terminated.
inline void writeError(char* err, size_t len, std::string_view message) {
  if (err == nullptr || len == 0) return;
  size_t n = message.size() < len - 1 ? message.size() : len - 1;
  for (size_t i = 0; i < n; ++i) err[i] = message[i];
  err[n] = '\0';
}

// --- Logging (any thread) -----------------------------------------------------------------------

enum class LogLevel {
  kTrace = REMORA_LOG_TRACE,
  kDebug = REMORA_LOG_DEBUG,
  kInfo = REMORA_LOG_INFO,
  kWarn = REMORA_LOG_WARN,
  kError = REMORA_LOG_ERROR,
};

// Writes `message` to the kernel's log, tagged with the plugin's name. Any thread; the message is
// copied. Before start / after stop (no host) it goes to stderr so nothing is lost silently.
inline void log(LogLevel level, std::string_view message) {
  if (const remora_host_api_t* h = detail::g_host) {
    h->log(static_cast<remora_log_level_t>(level), toStr(message));
  } else {
    std::fprintf(stderr, "remora filter: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}

// --- Clock (any thread) -------------------------------------------------------------------------

// Wall clock in microseconds since the Unix epoch, from the kernel (tests substitute their own).
inline uint64_t nowUnixUs() {
  return detail::g_host->now_unix_us();
}
// Monotonic clock in microseconds; use it for durations and token buckets.
inline uint64_t nowMonotonicUs() {
  return detail::g_host->now_monotonic_us();
}

// --- Endpoint ejection (any thread) ------------------------------------------------------------

// Takes `address` ("host:port") of `cluster` out of load balancing on every worker for
// `duration_ms`. Strings are copied by the host.
inline void ejectEndpoint(std::string_view cluster, std::string_view address,
                          uint32_t duration_ms) {
  detail::g_host->eject_endpoint(toStr(cluster), toStr(address), duration_ms);
}

// --- Event bus ----------------------------------------------------------------------------------

// Publishes `payload` on `topic` to every subscriber (any thread; both strings copied). Plugins
// never call each other directly: this is how they talk.
inline void publish(std::string_view topic, std::string_view payload) {
  detail::g_host->publish(toStr(topic), toStr(payload));
}

// A live event-bus subscription; unsubscribes when destroyed or reset().
//
// Threads: deliveries run on the thread that subscribed (main or a worker). Destroy the
// Subscription on that same thread and never from inside its own callback: the host guarantees
// no delivery is running or will start once `unsubscribe` returns on the subscribing thread,
// which is what makes freeing the callback safe. The usual home is a plugin-global created in
// `onPluginStart` and reset in `onPluginStop` (both on the main thread). If the host is already
// gone (after stop) destruction only frees the callback.
class Subscription {
 public:
  // Topic and payload are borrowed for the duration of the call.
  using Callback = std::function<void(std::string_view topic, std::string_view payload)>;

  Subscription() = default;
  ~Subscription() { reset(); }
  Subscription(Subscription&& other) noexcept
      : id_(std::exchange(other.id_, 0)), callback_(std::move(other.callback_)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, 0);
      callback_ = std::move(other.callback_);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Subscribes `callback` to `topic` (topic copied by the host). Returns an inactive
  // Subscription if the host refused. Exceptions the callback throws are caught and logged.
  static Subscription subscribe(std::string_view topic, Callback callback) {
    Subscription sub;
    sub.callback_ = std::make_unique<Callback>(std::move(callback));
    sub.id_ = detail::g_host->subscribe(toStr(topic), &Subscription::deliver, sub.callback_.get());
    if (sub.id_ == 0) sub.callback_.reset();
    return sub;
  }

  bool active() const { return id_ != 0; }
  void reset() {
    if (id_ != 0 && detail::g_host != nullptr) detail::g_host->unsubscribe(id_);
    id_ = 0;
    callback_.reset();
  }

 private:
  static void deliver(void* user, remora_str_t topic, remora_str_t payload) noexcept {
    try {
      (*static_cast<Callback*>(user))(toView(topic), toView(payload));
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("event callback threw: ") + e.what());
    } catch (...) {
      log(LogLevel::kError, "event callback threw a non-standard exception");
    }
  }

  uint64_t id_ = 0;
  // Heap-allocated so the pointer the host holds survives moves of the Subscription.
  std::unique_ptr<Callback> callback_;
};

}  // namespace remora::sdk
