#pragma once
// The admin endpoints that change things (main thread): PUT /config, GET /config/history,
// POST /config/rollback, POST /drain and GET/POST /logging. Every config change goes through
// the ConfigService, like SIGHUP and the watched file.

#include <event2/http.h>

#include <functional>

namespace remora {
class ConfigService;
}

namespace remora::admin {

// PUT /config: a YAML or JSON body (by Content-Type; a body that parses as JSON is JSON).
// 200 {"version":N}; 400 {"version":<in service>,"errors":[{"path","message"}...]};
// 412 when If-Match names a version no longer in service.
void putConfig(evhttp_request* req, ConfigService& service);
// GET /config/history: the applied version, the history (oldest first) and the last rejection.
void configHistory(evhttp_request* req, const ConfigService& service);
// POST /config/rollback[?version=N]: re-applies a history entry (default: the previous one) as
// a new version.
void configRollback(evhttp_request* req, const evhttp_uri* uri, ConfigService& service);
// POST /drain: begins the same drain as SIGTERM.
void drain(evhttp_request* req, const std::function<void()>& begin_drain);
// GET /logging: the kernel's log level; POST /logging?level=debug changes it.
void logging(evhttp_request* req, const evhttp_uri* uri);

}  // namespace remora::admin
