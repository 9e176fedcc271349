/* A plugin written against the raw C ABI (no SDK) whose failures the kernel must contain:
 * config_new rejects a config with a "reject" key; on_request_headers fails (REMORA_ERROR) when
 * the request carries `x-fail`, answers 202 itself when it carries `x-reply`, sleeps when it
 * carries `x-sleep` (a hook over its time budget), and otherwise sets `x-faulty: seen` on the
 * request. Responses get `x-faulty-version: FAULTY_VERSION`, so a test can tell which build ran
 * a stream (the build system compiles it as 1.0.0 and as 2.0.0).
 *
 * It is an ABI 1.0 plugin on purpose: its descriptor ends before the 1.1 state hooks, and the
 * kernel must still load it. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FAULTY_VERSION
#define FAULTY_VERSION "1.0.0"
#endif

#include "remora_filter.h"

static const remora_host_api_t* g_host;

static int start(const remora_host_api_t* host) {
  g_host = host;
  return 1;
}

static void* config_new(remora_config_ctx_t* c, remora_str_t json, char* err, size_t err_len) {
  (void)c;
  for (size_t i = 0; i + 8 <= json.len; ++i) {
    if (memcmp(json.data + i, "\"reject\"", 8) == 0) {
      strncpy(err, "faulty: this config is rejected on purpose", err_len - 1);
      err[err_len - 1] = '\0';
      return NULL;
    }
  }
  return malloc(1);
}

static void config_free(void* config) {
  free(config);
}

static remora_status_t on_request_headers(void* ctx, remora_stream_t* s, int end_stream) {
  (void)ctx;
  (void)end_stream;
  remora_str_t v;
  if (g_host->header_get(s, REMORA_REQUEST_HEADERS, (remora_str_t){"x-fail", 6}, &v))
    return REMORA_ERROR;
  if (g_host->header_get(s, REMORA_REQUEST_HEADERS, (remora_str_t){"x-reply", 7}, &v)) {
    g_host->send_local_reply(s, 202, (remora_str_t){"faulty replied\n", 15}, NULL, 0);
    return REMORA_REPLIED;
  }
  if (g_host->header_get(s, REMORA_REQUEST_HEADERS, (remora_str_t){"x-sleep", 7}, &v)) {
    struct timespec ts = {0, 60 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  g_host->header_set(s, REMORA_REQUEST_HEADERS, (remora_str_t){"x-faulty", 8},
                     (remora_str_t){"seen", 4});
  return REMORA_CONTINUE;
}

static remora_status_t on_response_headers(void* ctx, remora_stream_t* s, int end_stream) {
  (void)ctx;
  (void)end_stream;
  g_host->header_set(s, REMORA_RESPONSE_HEADERS, (remora_str_t){"x-faulty-version", 16},
                     (remora_str_t){FAULTY_VERSION, sizeof(FAULTY_VERSION) - 1});
  return REMORA_CONTINUE;
}

static const remora_plugin_descriptor_t kDescriptor = {
    .struct_size = offsetof(remora_plugin_descriptor_t, state_export),
    .abi_major = 1,
    .abi_minor = 0,
    .name = "faulty",
    .version = FAULTY_VERSION,
    .priority = 100,
    .start = start,
    .config_new = config_new,
    .config_free = config_free,
    .on_request_headers = on_request_headers,
    .on_response_headers = on_response_headers,
};

__attribute__((visibility("default"))) const remora_plugin_descriptor_t* remora_plugin_descriptor(
    void) {
  return &kDescriptor;
}
