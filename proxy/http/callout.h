#pragma once
// Callout: an async HTTP request a filter makes to a configured cluster (e.g. an external
// authorization service), through the same per-worker pools as proxied traffic. The request is a
// MessageHead sent through UpstreamRequest, so it goes out as HTTP/1.1 or as one HTTP/2 stream,
// whichever the cluster speaks. The result is delivered to the plugin's callback on the stream's
// worker; a callout whose stream ended first is cancelled and never calls back.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event/dispatcher.h"
#include "event/lazy_timer.h"
#include "plugin/abi/remora_filter.h"
#include "plugin/plugin_scope.h"
#include "upstream/upstream_connection.h"
#include "upstream/worker_cluster.h"

namespace remora::http {
class ProxyStream;
}

namespace remora::plugin {

class Callout : public upstream::UpstreamCallbacks, public Deferrable {
 public:
  static constexpr size_t kMaxBody = 1024 * 1024;

  // `request` carries method, target and headers (content-length included); `body` may be empty.
  Callout(std::shared_ptr<upstream::WorkerCluster> cluster, http::MessageHead request,
          std::string body, uint32_t timeout_ms, remora_callout_cb cb, void* user);
  ~Callout() override;

  bool start();
  // The stream ended: drop the connection and never call back.
  void cancel();

 private:
  void onUpstreamReady(upstream::UpstreamRequest& conn) override;
  void onUpstreamFailure(upstream::UpstreamFailure failure, bool reused) override;
  int onResponseHeaders(http::MessageHead& head) override;
  void onResponseBody(const char* data, size_t len) override;
  void onResponseComplete(http::HeaderMap& trailers) override;
  void onTunnelData(const char*, size_t) override {}
  void onUpstreamWritable() override {}
  static void onTimeout(void* arg);
  void deliver(int status, std::string body);
  void release();

  std::shared_ptr<upstream::WorkerCluster> cluster_;
  http::MessageHead request_;
  std::string request_body_;
  remora_callout_cb cb_;
  void* user_;
  // The plugin that made the call (from inside one of its hooks), named again around its
  // callback. Its generation outlives the callout: the stream that owns both pins it.
  RunningPlugin caller_;
  LazyTimer timer_;
  upstream::EndpointPool* pending_pool_ = nullptr;
  upstream::UpstreamRequest* conn_ = nullptr;
  // Response header fields, then trailer fields (see deliver()).
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  int status_ = 0;
  uint64_t tried_ = 0;
  bool done_ = false;
};

// Starts a callout owned by `stream` (cancelled when the stream ends). False if it could not start:
// an unknown method, a target not starting with '/', an invalid header, no endpoint, or the
// cluster's pending queue full.
bool startCallout(http::ProxyStream& stream, upstream::WorkerCluster& cluster,
                  std::string_view method, std::string_view path, const remora_header_t* headers,
                  size_t header_count, std::string_view body, uint32_t timeout_ms,
                  remora_callout_cb cb, void* user);

}  // namespace remora::plugin
