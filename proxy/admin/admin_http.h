#pragma once
// Small evhttp helpers shared by the admin endpoints: replies, query parameters, request
// headers and bodies.

#include <event2/http.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace remora::admin {

// Sends `body` with `code`. evhttp 2.1 would send a body even in reply to HEAD, so the body is
// left out there; Content-Length still says what a GET would carry.
void reply(evhttp_request* req, int code, const char* reason, std::string_view content_type,
           std::string_view body);
void replyText(evhttp_request* req, int code, const char* reason, std::string_view body);
void replyJson(evhttp_request* req, int code, const char* reason, const nlohmann::json& body);

// The decoded query parameter `name`, or "" when absent.
std::string queryParam(const evhttp_uri* uri, const char* name);
// The request header `name`, or "" when absent.
std::string requestHeader(evhttp_request* req, const char* name);
std::string requestBody(evhttp_request* req);
void addHeader(evhttp_request* req, const char* name, const std::string& value);

}  // namespace remora::admin
