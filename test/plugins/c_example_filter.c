/* c_example: a whole filter in plain C99, written against remora_filter.h alone (no SDK).
 *
 * It sets one response header on every response, answers one configured path itself, tells
 * through a second header whether the kernel's host table has the ABI 1.1 upstream-limit calls
 * (probed with REMORA_HOST_HAS), and logs streams that found no upstream connection (response
 * flag "UF", tested with remora_flags_has).
 *
 * Config, a JSON object of strings (every field optional):
 *   {"header": "x-c-example", "value": "c", "reply_path": "/c-hello", "reply_body": "hello\n"}
 * With no reply_path nothing is answered locally. docs/plugins.md walks through this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remora_filter.h"

#define FIELD_MAX 256 /* bytes of a config string, with its NUL */

typedef struct c_example_config {
  char header[FIELD_MAX];
  char value[FIELD_MAX];
  char reply_path[FIELD_MAX]; /* "" for none */
  char reply_body[FIELD_MAX];
} c_example_config_t;

/* Set in start, cleared in stop; the kernel calls nothing else before start or after stop. */
static const remora_host_api_t* g_host;
static int g_host_has_limits;

static remora_str_t str_of(const char* s) {
  remora_str_t r;
  r.data = s;
  r.len = strlen(s);
  return r;
}

static void log_line(remora_log_level_t level, const char* text) {
  g_host->log(level, str_of(text));
}

/* --- Config: a reader for the one JSON shape this filter takes, an object of strings. --- */

typedef struct parser {
  const char* p;
  const char* end;
  char* err;
  size_t err_len;
} parser_t;

static void skip_space(parser_t* ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ++ps->p;
}

static int fail(parser_t* ps, const char* where, const char* what) {
  snprintf(ps->err, ps->err_len, "%s: %s", where, what);
  return 0;
}

/* Reads a JSON string at ps->p into `out` (capacity FIELD_MAX, NUL-terminated). `where` names
 * the field for errors. Returns 0 with the reason written on failure. */
static int read_string(parser_t* ps, char* out, const char* where) {
  size_t n = 0;
  if (ps->p >= ps->end || *ps->p != '"') return fail(ps, where, "must be a string");
  ++ps->p;
  while (ps->p < ps->end && *ps->p != '"') {
    char c = *ps->p++;
    if ((unsigned char)c < 0x20) return fail(ps, where, "control character in a string");
    if (c == '\\') {
      if (ps->p >= ps->end) break;
      switch (*ps->p++) {
        case '"':
          c = '"';
          break;
        case '\\':
          c = '\\';
          break;
        case '/':
          c = '/';
          break;
        case 'n':
          c = '\n';
          break;
        case 't':
          c = '\t';
          break;
        case 'r':
          c = '\r';
          break;
        default:
          return fail(ps, where, "only the escapes \\\" \\\\ \\/ \\n \\t \\r are supported");
      }
    }
    if (n + 1 >= FIELD_MAX) return fail(ps, where, "must be at most 255 bytes");
    out[n++] = c;
  }
  if (ps->p >= ps->end) return fail(ps, where, "unterminated string");
  ++ps->p; /* the closing quote */
  out[n] = '\0';
  return 1;
}

/* The field of `c` named `key`, or NULL when this filter has no such field. */
static char* field_of(c_example_config_t* c, const char* key) {
  if (strcmp(key, "header") == 0) return c->header;
  if (strcmp(key, "value") == 0) return c->value;
  if (strcmp(key, "reply_path") == 0) return c->reply_path;
  if (strcmp(key, "reply_body") == 0) return c->reply_body;
  return NULL;
}

static int valid_header_name(const char* s) {
  if (*s == '\0') return 0;
  for (; *s != '\0'; ++s) {
    char c = *s;
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return 0;
  }
  return 1;
}

static int parse_config(parser_t* ps, c_example_config_t* c) {
  skip_space(ps);
  if (ps->p == ps->end) return 1; /* an empty block is an empty object */
  if (*ps->p != '{') return fail(ps, "config", "must be an object of strings");
  ++ps->p;
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ++ps->p;
  } else {
    for (;;) {
      char key[FIELD_MAX];
      char* field;
      skip_space(ps);
      if (!read_string(ps, key, "config")) return 0;
      field = field_of(c, key);
      if (field == NULL) return fail(ps, key, "unknown field");
      skip_space(ps);
      if (ps->p >= ps->end || *ps->p != ':') return fail(ps, key, "expected ':'");
      ++ps->p;
      skip_space(ps);
      if (!read_string(ps, field, key)) return 0;
      skip_space(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ++ps->p;
        continue;
      }
      if (ps->p < ps->end && *ps->p == '}') {
        ++ps->p;
        break;
      }
      return fail(ps, key, "expected ',' or '}' after the value");
    }
  }
  skip_space(ps);
  if (ps->p != ps->end) return fail(ps, "config", "text after the object");
  if (!valid_header_name(c->header)) return fail(ps, "header", "must be a lower-case header name");
  if (c->reply_path[0] != '\0' && c->reply_path[0] != '/')
    return fail(ps, "reply_path", "must start with /");
  return 1;
}

static void* config_new(remora_config_ctx_t* ctx, remora_str_t json, char* err, size_t err_len) {
  parser_t ps;
  c_example_config_t* c = malloc(sizeof(*c));
  (void)ctx;
  if (c == NULL) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  strcpy(c->header, "x-c-example");
  strcpy(c->value, "c");
  c->reply_path[0] = '\0';
  strcpy(c->reply_body, "hello from C\n");
  ps.p = json.data;
  ps.end = json.data + json.len;
  ps.err = err;
  ps.err_len = err_len;
  if (!parse_config(&ps, c)) {
    free(c);
    return NULL;
  }
  return c;
}

static void config_free(void* config) {
  free(config);
}

/* --- Lifecycle --- */

static int start(const remora_host_api_t* host) {
  g_host = host;
  /* A plugin built against a newer header than the kernel speaks probes before calling. */
  g_host_has_limits = REMORA_HOST_HAS(host, upstream_limits_hit);
  log_line(REMORA_LOG_INFO, g_host_has_limits
                                ? "c_example started; the host has upstream limits"
                                : "c_example started; the host has no upstream limits");
  return 1;
}

static void stop(void) {
  g_host = NULL;
}

/* --- Streams: no per-stream state, so each stream's context is the (immutable) config. --- */

static void* stream_new(void* config, remora_stream_t* s) {
  (void)s;
  return config;
}

/* True when request target `target` (path and query) has the path `path`. */
static int path_is(remora_str_t target, const char* path) {
  size_t n = 0;
  while (n < target.len && target.data[n] != '?') ++n;
  return n == strlen(path) && memcmp(target.data, path, n) == 0;
}

static remora_status_t on_request_headers(void* ctx, remora_stream_t* s, int end_stream) {
  const c_example_config_t* c = ctx;
  remora_header_t headers[2];
  (void)end_stream;
  if (c->reply_path[0] == '\0' || !path_is(g_host->request_path(s), c->reply_path))
    return REMORA_CONTINUE;
  headers[0].name = str_of("content-type");
  headers[0].value = str_of("text/plain");
  headers[1].name = str_of(c->header);
  headers[1].value = str_of(c->value);
  if (!g_host->send_local_reply(s, 200, str_of(c->reply_body), headers, 2)) return REMORA_CONTINUE;
  return REMORA_REPLIED;
}

static remora_status_t on_response_headers(void* ctx, remora_stream_t* s, int end_stream) {
  const c_example_config_t* c = ctx;
  (void)end_stream;
  g_host->header_set(s, REMORA_RESPONSE_HEADERS, str_of(c->header), str_of(c->value));
  g_host->header_set(s, REMORA_RESPONSE_HEADERS, str_of("x-c-example-limits"),
                     str_of(g_host_has_limits ? "yes" : "no"));
  return REMORA_CONTINUE;
}

static void on_log(void* ctx, remora_stream_t* s) {
  char line[512];
  remora_str_t path;
  (void)ctx;
  if (!remora_flags_has(g_host->response_flags(s), "UF")) return;
  path = g_host->request_path(s);
  if (path.data == NULL) path = str_of("");
  snprintf(line, sizeof(line), "c_example: no upstream connection for %.*s",
           (int)(path.len < 256 ? path.len : 256), path.data);
  log_line(REMORA_LOG_WARN, line);
}

static const remora_plugin_descriptor_t kDescriptor = {
    .struct_size = sizeof(remora_plugin_descriptor_t),
    .abi_major = REMORA_FILTER_ABI_MAJOR,
    .abi_minor = REMORA_FILTER_ABI_MINOR,
    .name = "c_example",
    .version = "1.0.0",
    .priority = 100,
    .start = start,
    .stop = stop,
    .config_new = config_new,
    .config_free = config_free,
    .stream_new = stream_new,
    .on_request_headers = on_request_headers,
    .on_response_headers = on_response_headers,
    .on_log = on_log,
};

__attribute__((visibility("default"))) const remora_plugin_descriptor_t* remora_plugin_descriptor(
    void) {
  return &kDescriptor;
}
