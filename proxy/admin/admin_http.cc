#include "admin/admin_http.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

namespace remora::admin {

void reply(evhttp_request* req, int code, const char* reason, std::string_view content_type,
           std::string_view body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", std::string(content_type).c_str());
  evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
  evhttp_add_header(headers, "Cache-Control", "no-cache");
  evbuffer* buf = evbuffer_new();
  if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
    evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

void replyText(evhttp_request* req, int code, const char* reason, std::string_view body) {
  reply(req, code, reason, "text/plain; charset=utf-8", body);
}

void replyJson(evhttp_request* req, int code, const char* reason, const nlohmann::json& body) {
  reply(req, code, reason, "application/json", body.dump(2) + "\n");
}

std::string queryParam(const evhttp_uri* uri, const char* name) {
  const char* query = uri ? evhttp_uri_get_query(uri) : nullptr;
  if (!query) return {};
  evkeyvalq params;
  if (evhttp_parse_query_str(query, &params) != 0) return {};
  const char* v = evhttp_find_header(&params, name);
  std::string out = v ? v : "";
  evhttp_clear_headers(&params);
  return out;
}

std::string requestHeader(evhttp_request* req, const char* name) {
  const char* v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return v ? v : "";
}

std::string requestBody(evhttp_request* req) {
  evbuffer* in = evhttp_request_get_input_buffer(req);
  const size_t n = evbuffer_get_length(in);
  std::string body(n, '\0');
  if (n) evbuffer_copyout(in, body.data(), n);
  return body;
}

void addHeader(evhttp_request* req, const char* name, const std::string& value) {
  evhttp_add_header(evhttp_request_get_output_headers(req), name, value.c_str());
}

}  // namespace remora::admin
