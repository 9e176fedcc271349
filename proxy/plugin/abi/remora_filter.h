/*
 * remora_filter.h — the Remora filter plugin ABI.
 *
 * Pure C, standard library only. A plugin is a shared object exporting one symbol,
 * `remora_plugin_descriptor`, that returns its descriptor: name, version, ABI version, default
 * priority and hooks. The kernel calls the hooks; the plugin calls back through the host API table
 * (`remora_host_api_t`) it receives in `start`.
 *
 * Naming: `remora_plugin_*` is what a plugin exports, `remora_host_*` (and the host API table) is
 * what the kernel provides, types are `remora_*_t`.
 *
 * Versioning: a plugin built against ABI MAJOR.x loads into a kernel speaking MAJOR.y with y >= x.
 * A different major is refused, naming both versions. Every struct that crosses the boundary
 * starts with `struct_size`, so either side can tell which fields the other one knows; fields are
 * only ever appended.
 *
 * Threads: `start`, `stop`, `config_new` and `config_free` run on the main thread. Every stream
 * hook and every host call taking a `remora_stream_t*` runs on the stream's worker thread. A
 * plugin never blocks a worker.
 *
 * Errors: no C++ exception (or longjmp) may cross this boundary. A hook that fails returns
 * REMORA_ERROR: the kernel answers that stream with 500 and counts
 * remora_filter_errors_total{filter}.
 *
 * Ownership: every pointer's owner and lifetime is written where it appears. In short: the host
 * owns streams, headers and body bytes, which plugins borrow for the duration of the call; plugins
 * own their config and stream objects, which the host hands back to them to free.
 */
#ifndef REMORA_FILTER_H
#define REMORA_FILTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REMORA_FILTER_ABI_MAJOR 1
#define REMORA_FILTER_ABI_MINOR 1

/* A borrowed byte string, not NUL-terminated. Valid as stated where it is passed or returned. */
typedef struct remora_str {
  const char* data;
  size_t len;
} remora_str_t;

/* One header; both strings borrowed. */
typedef struct remora_header {
  remora_str_t name;
  remora_str_t value;
} remora_header_t;

/* What a stream hook tells the kernel. */
typedef enum remora_status {
  /* Go on to the next filter. */
  REMORA_CONTINUE = 0,
  /* Pause this stream here (e.g. waiting for a callout). The plugin must later call
   * host->resume(stream) — or host->send_local_reply — from the stream's worker thread. Body
   * bytes arriving meanwhile are buffered by the kernel up to the listener's watermark. */
  REMORA_STOP = 1,
  /* The hook already answered with host->send_local_reply: the rest of the chain is skipped;
   * on_log still runs for every filter. */
  REMORA_REPLIED = 2,
  /* The hook failed. The stream is answered with 500 (if no response started) or reset. */
  REMORA_ERROR = 3
} remora_status_t;

/* Which header block a header call addresses. */
typedef enum remora_headers_kind {
  REMORA_REQUEST_HEADERS = 0,
  REMORA_RESPONSE_HEADERS = 1,
  REMORA_REQUEST_TRAILERS = 2,
  REMORA_RESPONSE_TRAILERS = 3
} remora_headers_kind_t;

typedef enum remora_log_level {
  REMORA_LOG_TRACE = 0,
  REMORA_LOG_DEBUG = 1,
  REMORA_LOG_INFO = 2,
  REMORA_LOG_WARN = 3,
  REMORA_LOG_ERROR = 4
} remora_log_level_t;

typedef enum remora_metric_kind {
  REMORA_METRIC_COUNTER = 0,
  REMORA_METRIC_GAUGE = 1,
  REMORA_METRIC_HISTOGRAM = 2 /* observations in seconds, Remora's latency buckets */
} remora_metric_kind_t;

/* Retry conditions for remora_route_t.retry_on (bit mask). */
#define REMORA_RETRY_5XX 0x1u
#define REMORA_RETRY_RESET 0x2u
#define REMORA_RETRY_CONNECT_FAILURE 0x4u
/* gRPC conditions (Envoy's retry_grpc_on): a gRPC request whose response is trailers-only with
 * this grpc-status, before anything was sent downstream. These apply whatever the method (gRPC
 * uses POST throughout); the request body is kept for the retry up to the listener's
 * buffer_high_watermark. A kernel older than these bits ignores them. */
#define REMORA_RETRY_GRPC_CANCELLED 0x8u
#define REMORA_RETRY_GRPC_DEADLINE_EXCEEDED 0x10u
#define REMORA_RETRY_GRPC_RESOURCE_EXHAUSTED 0x20u
#define REMORA_RETRY_GRPC_UNAVAILABLE 0x40u
#define REMORA_RETRY_GRPC_INTERNAL 0x80u
#define REMORA_RETRY_GRPC_MASK 0xf8u

/* The route decision a routing filter hands the kernel. Strings are copied by the host during
 * the call. */
typedef struct remora_route {
  uint32_t struct_size;
  remora_str_t cluster;          /* must name a configured cluster */
  uint32_t timeout_ms;           /* whole upstream exchange; 0 = the cluster's response_timeout */
  uint32_t per_try_timeout_ms;   /* 0 = timeout_ms */
  uint32_t retry_max;            /* extra attempts after the first; 0 = no retries */
  uint32_t retry_on;             /* REMORA_RETRY_* bits */
  uint32_t retry_non_idempotent; /* 1: also retry methods other than GET/HEAD/OPTIONS/PUT/DELETE */
  remora_str_t path;             /* new request target (path and query); empty = unchanged */
  remora_str_t host;             /* new Host header; empty = unchanged */
} remora_route_t;

/* An endpoint of a cluster, as seen by this worker. Strings valid until the next host call. */
typedef struct remora_endpoint_info {
  uint32_t struct_size;
  remora_str_t address;     /* "host:port" */
  uint32_t active_requests; /* on this worker */
  uint32_t ejected;         /* 1 while ejected (remora_host_api_t.eject_endpoint) */
} remora_endpoint_info_t;

/* Per-stream upstream limits (remora_host_api_t.set_upstream_limits, ABI 1.1 append): bounds a
 * filter puts on this worker's use of the routed cluster, on top of the cluster's own. Envoy's
 * circuit-breaker thresholds, kept by the kernel so no plugin call sits in the pool or retry path.
 * REMORA_NO_LIMIT leaves a bound off. */
#define REMORA_NO_LIMIT 0xffffffffu
typedef struct remora_upstream_limits {
  uint32_t struct_size;
  /* Refuse the stream (503 "upstream overloaded", flag UO, x-remora-overloaded: true; gRPC:
   * UNAVAILABLE) when it would wait for a connection while this worker already has this many
   * streams of the cluster waiting. 0 = never queue. */
  uint32_t max_pending;
  /* Do not retry (the failure is answered as it is) when this worker already has this many
   * streams of the cluster on a retry. A stream holds one such slot from its first retry until it
   * ends. 0 = no retries. */
  uint32_t max_retries;
} remora_upstream_limits_t;

/* What set_upstream_limits' bounds did to a stream (remora_host_api_t.upstream_limits_hit). */
#define REMORA_LIMIT_HIT_PENDING 0x1u /* refused: max_pending reached */
#define REMORA_LIMIT_HIT_RETRIES 0x2u /* at least one retry not attempted: max_retries reached */

/* Opaque handles, owned by the host. */
typedef struct remora_stream remora_stream_t;         /* valid from stream_new to stream_free */
typedef struct remora_config_ctx remora_config_ctx_t; /* valid during config_new only */

/* Completion of an async HTTP callout. Runs on the calling stream's worker thread. `status` is
 * the HTTP status, or 0 when the callout failed (connect error, timeout) — `body` then holds the
 * reason and there are no headers. `headers` are the response headers followed by the response
 * trailers, if any (so a gRPC `grpc-status` is found there whether it came as a trailer or in a
 * trailers-only answer). Headers and body are borrowed for the duration of the call. Not called
 * if the stream ended first (the callout is cancelled). */
typedef void (*remora_callout_cb)(void* user, int status, const remora_header_t* headers,
                                  size_t header_count, remora_str_t body);

/* Event bus delivery: runs on the thread that subscribed (main or a worker). Topic and payload
 * borrowed for the duration of the call. */
typedef void (*remora_event_cb)(void* user, remora_str_t topic, remora_str_t payload);

/* What the kernel offers a plugin. The table is owned by the host and valid from `start` until
 * after `stop` returns; plugins keep the pointer. */
typedef struct remora_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* --- Headers (worker thread). Views returned are valid until the header block changes or the
   * hook returns, whichever comes first. --- */
  /* First value of `name` (case-insensitive); returns 1 and fills `out`, or 0 when absent. */
  int (*header_get)(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
                    remora_str_t* out);
  size_t (*header_count)(remora_stream_t* s, remora_headers_kind_t kind);
  /* The i-th live header; returns 0 past the end. */
  int (*header_at)(remora_stream_t* s, remora_headers_kind_t kind, size_t i, remora_header_t* out);
  /* Replaces every `name` with one value (copied). */
  void (*header_set)(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
                     remora_str_t value);
  void (*header_add)(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name,
                     remora_str_t value);
  /* Returns how many were removed. */
  size_t (*header_remove)(remora_stream_t* s, remora_headers_kind_t kind, remora_str_t name);

  /* --- Request and response facts (worker thread; views valid for the stream's life unless the
   * route rewrites the path). --- */
  remora_str_t (*request_method)(remora_stream_t* s);
  remora_str_t (*request_path)(remora_stream_t* s);       /* request target: path and query */
  remora_str_t (*request_authority)(remora_stream_t* s);  /* Host */
  remora_str_t (*downstream_address)(remora_stream_t* s); /* client IP */
  remora_str_t (*listener_name)(remora_stream_t* s);
  int (*response_status)(remora_stream_t* s);           /* 0 before response headers */
  uint64_t (*request_bytes)(remora_stream_t* s);        /* request body bytes so far */
  uint64_t (*response_bytes)(remora_stream_t* s);       /* response body bytes so far */
  remora_str_t (*upstream_address)(remora_stream_t* s); /* empty before an endpoint is chosen */
  remora_str_t (*response_flags)(remora_stream_t* s);   /* Envoy-style, e.g. "UF", "UT", "-" */
  uint64_t (*stream_start_us)(remora_stream_t* s);      /* wall clock, microseconds */

  /* --- Control (worker thread). --- */
  /* Answers the stream locally; `headers` and `body` are copied. Then return REMORA_REPLIED
   * (from a hook) — or, after REMORA_STOP, just return. Returns 0 if a response already started. */
  int (*send_local_reply)(remora_stream_t* s, int status, remora_str_t body,
                          const remora_header_t* headers, size_t header_count);
  /* Continues a stream a hook paused with REMORA_STOP. */
  void (*resume)(remora_stream_t* s);
  /* The route decision; returns 0 and writes why into `err` (NUL-terminated) if it is refused
   * (e.g. unknown cluster). */
  int (*set_route)(remora_stream_t* s, const remora_route_t* route, char* err, size_t err_len);

  /* --- Per-stream metadata one filter leaves for the next (e.g. auth's principal for the
   * logger). Keys and values are copied; views returned live until the stream ends. --- */
  void (*metadata_set)(remora_stream_t* s, remora_str_t key, remora_str_t value);
  int (*metadata_get)(remora_stream_t* s, remora_str_t key, remora_str_t* out);

  /* --- Clusters and endpoints (worker thread, this worker's view). --- */
  size_t (*cluster_endpoint_count)(remora_stream_t* s, remora_str_t cluster);
  int (*cluster_endpoint_at)(remora_stream_t* s, remora_str_t cluster, size_t i,
                             remora_endpoint_info_t* out);
  /* Takes an endpoint out of load balancing on every worker for `duration_ms`. */
  void (*eject_endpoint)(remora_str_t cluster, remora_str_t address, uint32_t duration_ms);

  /* --- Logging (any thread): goes to the kernel's log with the plugin's name. --- */
  void (*log)(remora_log_level_t level, remora_str_t message);

  /* --- Metrics. Declared in config_new (main thread), exported with a `filter` label (the
   * plugin's name) plus at most one label of the plugin's own, whose values are also declared at
   * config time, so the series count stays bounded (a budget per filter; past it, -1). --- */
  /* Declares a metric; `label_name` empty for none. Returns a series id for the unlabelled
   * series (or the metric id to pass to metric_series when labelled), or -1 with the reason
   * logged. Names must match [a-z_][a-z0-9_]* and are prefixed with "remora_filter_". */
  int32_t (*metric_define)(remora_config_ctx_t* c, remora_metric_kind_t kind, remora_str_t name,
                           remora_str_t help, remora_str_t label_name);
  /* The series of a labelled metric for one label value; -1 past the budget. */
  int32_t (*metric_series)(remora_config_ctx_t* c, int32_t metric, remora_str_t label_value);
  /* Worker thread, cheap: a per-worker slot. Counter: delta >= 0; gauge: any delta. */
  void (*metric_add)(remora_stream_t* s, int32_t series, int64_t delta);
  void (*metric_observe)(remora_stream_t* s, int32_t series, double value);

  /* --- Event bus (any thread). Subscriptions made on a worker are delivered on that worker. --- */
  void (*publish)(remora_str_t topic, remora_str_t payload);
  /* Returns a subscription id (> 0) for unsubscribe. */
  uint64_t (*subscribe)(remora_str_t topic, remora_event_cb cb, void* user);
  void (*unsubscribe)(uint64_t id);

  /* --- Async HTTP client for callouts (worker thread): a request to a configured cluster, as
   * HTTP/1.1 or as an HTTP/2 stream per the cluster's protocol. `method` is case-sensitive and
   * must be one the kernel knows (GET, POST, ...). Hop-by-hop headers and Content-Length are
   * dropped (the kernel sends its own Content-Length); Host defaults to the cluster's name.
   * Headers and body are copied. Returns 0 if the request could not be started. --- */
  int (*http_call)(remora_stream_t* s, remora_str_t cluster, remora_str_t method, remora_str_t path,
                   const remora_header_t* headers, size_t header_count, remora_str_t body,
                   uint32_t timeout_ms, remora_callout_cb cb, void* user);

  /* --- Clock (any thread). --- */
  uint64_t (*now_unix_us)(void);
  uint64_t (*now_monotonic_us)(void);

  /* --- ABI 1.1, appended: probe with REMORA_HOST_HAS(host, set_upstream_limits) (both come
   * together). Worker thread. --- */
  /* Bounds for this stream's upstream exchange, applied to the cluster it is routed to when it
   * goes upstream; call after the route is decided (on_request_headers of a filter after the
   * router). A later call replaces the bounds. `limits` is read during the call; fields past its
   * struct_size count as REMORA_NO_LIMIT. Costs two stores: the kernel checks the bounds only
   * when the stream would be queued or retried. */
  void (*set_upstream_limits)(remora_stream_t* s, const remora_upstream_limits_t* limits);
  /* REMORA_LIMIT_HIT_* bits: which of those bounds acted on the stream (e.g. read in on_log to
   * count refusals). 0 when none did. */
  uint32_t (*upstream_limits_hit)(remora_stream_t* s);
} remora_host_api_t;

/* True when the host table `host` (a const remora_host_api_t*) is long enough to contain `field`.
 * Fields are only ever appended, so this is how a plugin built against a newer minor probes a call
 * an older kernel lacks:
 *   if (REMORA_HOST_HAS(host, set_upstream_limits)) host->set_upstream_limits(s, &limits); */
#define REMORA_HOST_HAS(host, field)                                              \
  (offsetof(remora_host_api_t, field) + sizeof(((remora_host_api_t*)0)->field) <= \
   (host)->struct_size)

/* Nonzero when the response flags `flags` (host->response_flags: Envoy-style codes joined by
 * commas, "-" when there are none, e.g. "UF" or "UT,URX") hold the code `flag` (NUL-terminated)
 * as a whole element: "UR" is in "UT,UR" but not in "URX". An empty `flag` is never held. */
static inline int remora_flags_has(remora_str_t flags, const char* flag) {
  size_t start = 0;
  if (flags.data == NULL || flag == NULL || flag[0] == '\0') return 0;
  while (start < flags.len) {
    size_t end = start;
    size_t k = 0;
    while (end < flags.len && flags.data[end] != ',') ++end;
    while (start + k < end && flag[k] != '\0' && flags.data[start + k] == flag[k]) ++k;
    if (start + k == end && flag[k] == '\0') return 1;
    start = end + 1;
  }
  return 0;
}

/* What a plugin is and does. Returned by remora_plugin_descriptor(); static, owned by the
 * plugin, valid while the plugin is loaded. Any hook may be NULL (not interested). */
typedef struct remora_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major; /* REMORA_FILTER_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;
  const char* name;    /* [a-z0-9_]+, NUL-terminated */
  const char* version; /* free text, e.g. "1.2.0" */
  int32_t priority;    /* default chain order: lower runs first on requests */

  /* Lifecycle (main thread). `host` is valid until stop returns. start returns 0 on failure. */
  int (*start)(const remora_host_api_t* host);
  void (*stop)(void);

  /* Config (main thread). `json` is the filter's config block as JSON text (borrowed for the call).
   * Returns the plugin's config object (owned by the plugin, freed by config_free when the last
   * snapshot and stream using it are gone — on any thread, so it must be immutable or
   * thread-safe), or NULL with a NUL-terminated reason in `err`. */
  void* (*config_new)(remora_config_ctx_t* c, remora_str_t json, char* err, size_t err_len);
  void (*config_free)(void* config);

  /* Streams (worker thread). Returns the plugin's per-stream object (may be NULL when the plugin
   * keeps no per-stream state); freed by stream_free after on_log. */
  void* (*stream_new)(void* config, remora_stream_t* s);
  void (*stream_free)(void* stream_ctx);

  /* Request side, in chain order. `chunk` is borrowed for the call. */
  remora_status_t (*on_request_headers)(void* stream_ctx, remora_stream_t* s, int end_stream);
  remora_status_t (*on_request_body)(void* stream_ctx, remora_stream_t* s, remora_str_t chunk,
                                     int end_stream);
  remora_status_t (*on_request_trailers)(void* stream_ctx, remora_stream_t* s);
  /* Response side, in reverse chain order. */
  remora_status_t (*on_response_headers)(void* stream_ctx, remora_stream_t* s, int end_stream);
  remora_status_t (*on_response_body)(void* stream_ctx, remora_stream_t* s, remora_str_t chunk,
                                      int end_stream);
  remora_status_t (*on_response_trailers)(void* stream_ctx, remora_stream_t* s);
  /* After the stream ended (complete, replied locally, or reset); every filter, chain order. */
  void (*on_log)(void* stream_ctx, remora_stream_t* s);

  /* --- ABI 1.1: state hand-off. Present when struct_size covers them; either may be NULL. ---
   * When a config push replaces a chain entry of this plugin (a new build, or the same build with
   * a new config), the kernel moves the entry's runtime state (token buckets, breaker windows)
   * from the old config object to the new one before the new snapshot serves any request. Both
   * hooks run on every worker thread, once per worker, back to back and between two events of
   * that worker, so each moves that worker's own share of the state without a lock; on a worker,
   * no stream runs between the export and the import.
   *
   * state_export writes the old config's state as bytes through `write` (called any number of
   * times; the host copies each piece) and returns 0 on failure (nothing is imported).
   * state_import receives those bytes (borrowed for the call). The old and new builds may differ,
   * so the format is the plugin's own and must be versioned; import ignores what it does not
   * understand and returns 0 if it took nothing. Neither may fail the push. */
  int (*state_export)(void* config, void (*write)(void* sink, const char* data, size_t len),
                      void* sink);
  int (*state_import)(void* config, remora_str_t state);
} remora_plugin_descriptor_t;

/* True when descriptor `d` carries field `field` (fields are only ever appended). */
#define REMORA_DESCRIPTOR_HAS(d, field) \
  ((d)->struct_size >=                  \
   offsetof(remora_plugin_descriptor_t, field) + sizeof(((remora_plugin_descriptor_t*)0)->field))

/* The one symbol a plugin exports. */
typedef const remora_plugin_descriptor_t* (*remora_plugin_descriptor_fn)(void);
#define REMORA_PLUGIN_DESCRIPTOR_SYMBOL "remora_plugin_descriptor"

#ifdef __cplusplus
}
#endif

#endif /* REMORA_FILTER_H */
