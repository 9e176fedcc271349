// The config schema: which fields each section has, their ranges and defaults (the defaults
// themselves live in config.h), and the checks that span sections (names, references,
// addresses). Loading is staged like HAProxy's: read every field, then check cross-references,
// reporting every error found rather than stopping at the first.

#include "config/loader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/admin_fields.h"
#include "config/cluster_fields.h"
#include "config/discovery_fields.h"
#include "config/filter_fields.h"
#include "config/request_fields.h"
#include "config/tcp_fields.h"
#include "config/tls_fields.h"
#include "config/yaml_fields.h"

namespace remora::config {

namespace {

using yaml::Errors;
using yaml::MapReader;

constexpr uint32_t kMaxWorkers = 256;
constexpr uint32_t kMaxCount = 1000000;  // ceiling of pool sizes and queue lengths
constexpr Duration kZero{0};
constexpr Duration kOneMs{1};
constexpr size_t kMaxDocumentsCounted = 16;

void readDrain(const MapReader& root, Drain& drain) {
  const MapReader reader(root.get("drain"), root.path("drain"), {"grace_period", "deadline"},
                         root.errors());
  reader.readDuration("grace_period", kZero, drain.grace_period);
  reader.readDuration("deadline", kZero, drain.deadline);
}

void readLimits(const MapReader& listener, ListenerLimits& limits) {
  const MapReader reader(
      listener.get("limits"), listener.path("limits"),
      {"max_request_headers_bytes", "max_request_headers", "buffer_high_watermark"},
      listener.errors());
  // A request line plus headers below 1 KiB rejects ordinary browsers; above 1 MiB per request
  // is a memory lever for an attacker.
  reader.readUint("max_request_headers_bytes", 1024, 1024 * 1024, limits.max_request_headers_bytes);
  reader.readUint("max_request_headers", 1, 10000, limits.max_request_headers);
  reader.readUint("buffer_high_watermark", 4096, 1024 * 1024 * 1024, limits.buffer_high_watermark);
}

void readHttp2Settings(const MapReader& cluster, Http2Settings& h2) {
  const MapReader reader(
      cluster.get("http2"), cluster.path("http2"),
      {"max_concurrent_streams", "initial_window_size", "keepalive_interval", "keepalive_timeout"},
      cluster.errors());
  // RFC 9113 §6.5.2: windows are 31-bit; below the default 65535 only slows transfers down.
  reader.readUint("max_concurrent_streams", 1, (1u << 31) - 1, h2.max_concurrent_streams);
  reader.readUint("initial_window_size", 65535, (1u << 31) - 1, h2.initial_window_size);
  reader.readDuration("keepalive_interval", kZero, h2.keepalive_interval);  // 0 = off
  reader.readDuration("keepalive_timeout", kOneMs, h2.keepalive_timeout);
}

void readHttp2(const MapReader& listener, ListenerHttp2& h2) {
  const MapReader reader(listener.get("http2"), listener.path("http2"),
                         {"mode", "max_concurrent_streams", "initial_stream_window", "max_resets",
                          "max_settings_frames", "max_ping_frames", "max_empty_data_frames",
                          "max_continuation_frames", "flood_window"},
                         listener.errors());
  reader.readChoice<bool>("mode", {{"auto", true}, {"off", false}}, h2.enabled);
  reader.readUint("max_concurrent_streams", 1, 10000, h2.max_concurrent_streams);
  // Below the RFC's 65535 default a client has to wait for WINDOW_UPDATEs it does not expect;
  // above 16 MiB one stream could hold that much unconsumed per connection.
  reader.readUint("initial_stream_window", 65535, 16 * 1024 * 1024, h2.initial_stream_window);
  reader.readUint("max_resets", 1, 1000000, h2.max_resets);
  reader.readUint("max_settings_frames", 1, 1000000, h2.max_settings_frames);
  reader.readUint("max_ping_frames", 1, 1000000, h2.max_ping_frames);
  reader.readUint("max_empty_data_frames", 1, 1000000, h2.max_empty_data_frames);
  reader.readUint("max_continuation_frames", 1, 1000, h2.max_continuation_frames);
  reader.readDuration("flood_window", kOneMs, h2.flood_window);
}

void readTimeouts(const MapReader& listener, ListenerTimeouts& timeouts) {
  const MapReader reader(listener.get("timeouts"), listener.path("timeouts"),
                         {"request_headers", "idle", "request", "grpc_max"}, listener.errors());
  reader.readDuration("request_headers", kOneMs, timeouts.request_headers);
  reader.readDuration("idle", kOneMs, timeouts.idle);
  reader.readDuration("request", kZero, timeouts.request);    // 0 = no overall limit
  reader.readDuration("grpc_max", kZero, timeouts.grpc_max);  // 0 = grpc-timeout uncapped
}

void readRoute(const YAML::Node& node, const std::string& path, Errors& errors, Route& route) {
  if (!node.IsMap()) {
    errors.expected(path, "a map", node);
    return;
  }
  const MapReader reader(node, path, {"prefix", "cluster"}, errors);
  constexpr std::string_view kPrefix = "a path starting with \"/\"";
  std::string prefix;
  if (reader.readString("prefix", false, kPrefix, prefix)) {
    if (prefix.empty() || prefix.front() != '/') {
      errors.expected(reader.path("prefix"), kPrefix, reader.get("prefix"));
    } else {
      route.prefix = std::move(prefix);
    }
  }
  reader.readString("cluster", true, "a cluster name", route.cluster);
}

void readListener(const YAML::Node& node, const std::string& path, Errors& errors,
                  Listener& listener) {
  if (!node.IsMap()) {
    errors.expected(path, "a map", node);
    return;
  }
  const MapReader reader(
      node, path,
      {"name", "address", "limits", "http2", "timeouts", "routes", "filters", "filter_order",
       "filter_defaults", "filter_overrides", "original_dst", "tls", "path_normalization",
       "upgrades", "protocol", "detection_timeout", "opaque_ports", "tcp"},
      errors);
  reader.readName("name", listener.name);
  reader.readAddress("address", true, listener.address);
  readBool(reader, "original_dst", listener.original_dst);
  readListenerProtocol(reader, listener);
  readLimits(reader, listener.limits);
  readHttp2(reader, listener.http2);
  readTimeouts(reader, listener.timeouts);
  readListenerTls(reader, listener);
  readRequestPolicy(reader, listener);
  readFilters(reader, listener.filters);
  readFilterOptions(reader, listener);
  // With a filter chain the router filter routes; the built-in table is then optional.
  if (reader.get("filters").IsDefined() && !reader.get("routes").IsDefined()) return;
  // A TCP listener carries no requests: it needs neither routes nor filters.
  if (listener.protocol == ListenerProtocol::kTcp && !reader.get("routes").IsDefined()) return;
  if (const auto routes = reader.readNonEmptyList("routes", "route")) {
    for (size_t i = 0; i < routes->size(); ++i) {
      readRoute((*routes)[i], yaml::indexPath(reader.path("routes"), i), errors,
                listener.routes.emplace_back());
    }
  }
}

void readCluster(const YAML::Node& node, const std::string& path, Errors& errors,
                 Cluster& cluster) {
  if (!node.IsMap()) {
    errors.expected(path, "a map", node);
    return;
  }
  const MapReader reader(
      node, path,
      {"name", "type", "endpoints", "discovery", "lb_policy", "connect_timeout", "response_timeout",
       "max_connections_per_endpoint", "max_pending_requests", "max_connect_attempts",
       "idle_timeout", "health_check", "protocol", "http2", "tls"},
      errors);
  reader.readName("name", cluster.name);
  readClusterEndpoints(reader, cluster);
  reader.readChoice<LbPolicy>(
      "lb_policy",
      {{"round_robin", LbPolicy::kRoundRobin}, {"least_request", LbPolicy::kLeastRequest}},
      cluster.lb_policy);
  reader.readDuration("connect_timeout", kOneMs, cluster.connect_timeout);
  reader.readDuration("response_timeout", kOneMs, cluster.response_timeout);
  reader.readUint("max_connections_per_endpoint", 1, kMaxCount,
                  cluster.max_connections_per_endpoint);
  // 0 is allowed: no queue, a request that finds no free connection fails at once.
  reader.readUint("max_pending_requests", 0, kMaxCount, cluster.max_pending_requests);
  reader.readUint("max_connect_attempts", 1, 100, cluster.max_connect_attempts);
  reader.readDuration("idle_timeout", kOneMs, cluster.idle_timeout);
  readHealthCheck(reader, cluster);
  reader.readChoice<UpstreamProtocol>(
      "protocol", {{"http1", UpstreamProtocol::kHttp1}, {"http2", UpstreamProtocol::kHttp2}},
      cluster.protocol);
  readHttp2Settings(reader, cluster.http2);
  readClusterTls(reader, cluster);
}

// Reads a list section; entries keep their YAML index even when invalid, so cross-reference
// checks can name them by the same path.
template <typename T, typename ReadEntry>
bool readSection(const MapReader& root, std::string_view key, std::string_view item,
                 std::vector<T>& out, ReadEntry readEntry) {
  const auto list = root.readNonEmptyList(key, item);
  if (!list) return false;
  for (size_t i = 0; i < list->size(); ++i) {
    readEntry((*list)[i], yaml::indexPath(root.path(key), i), root.errors(), out.emplace_back());
  }
  return true;
}

void checkListeners(const Config& config, Errors& errors) {
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const Listener& listener = config.listeners[i];
    const std::string path = yaml::indexPath("listeners", i);
    for (size_t j = 0; j < i; ++j) {
      if (!listener.name.empty() && config.listeners[j].name == listener.name) {
        errors.add(path + ".name", "duplicate listener " + yaml::quote(listener.name));
        break;
      }
    }
    for (size_t j = 0; j < i; ++j) {
      const SocketAddress& other = config.listeners[j].address;
      if (yaml::addressesConflict(listener.address, other)) {
        errors.add(path + ".address", listener.address.str() + " conflicts with " +
                                          yaml::indexPath("listeners", j) + ".address " +
                                          other.str());
        break;
      }
    }
  }
}

void checkClusters(const Config& config, Errors& errors) {
  for (size_t i = 0; i < config.clusters.size(); ++i) {
    const std::string& name = config.clusters[i].name;
    for (size_t j = 0; j < i && !name.empty(); ++j) {
      if (config.clusters[j].name == name) {
        errors.add(yaml::indexPath("clusters", i) + ".name",
                   "duplicate cluster " + yaml::quote(name));
        break;
      }
    }
  }
}

void checkRoutes(const Config& config, Errors& errors) {
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const std::vector<Route>& routes = config.listeners[i].routes;
    for (size_t j = 0; j < routes.size(); ++j) {
      // An empty name was reported as missing (or was never read) already.
      if (routes[j].cluster.empty() || config.findCluster(routes[j].cluster)) continue;
      errors.add(yaml::indexPath(yaml::indexPath("listeners", i) + ".routes", j) + ".cluster",
                 "unknown cluster " + yaml::quote(routes[j].cluster));
    }
  }
}

void readConfig(const YAML::Node& root, Errors& errors, Config& config) {
  const MapReader reader(root, "",
                         {"workers", "log_level", "config_watch", "admin", "drain", "plugins",
                          "sources", "registration", "listeners", "clusters"},
                         errors);
  reader.readUint("workers", 0, kMaxWorkers, config.workers);
  reader.readChoice<std::string>("log_level",
                                 {{"trace", "trace"},
                                  {"debug", "debug"},
                                  {"info", "info"},
                                  {"warn", "warn"},
                                  {"error", "error"},
                                  {"critical", "critical"},
                                  {"off", "off"}},
                                 config.log_level);
  reader.readChoice<bool>("config_watch", {{"true", true}, {"false", false}}, config.config_watch);
  readAdmin(reader, config.admin);
  readDrain(reader, config.drain);
  readPlugins(reader, config.plugins);
  readSources(reader, config.etcd);
  readRegistration(reader, config.registration);
  readSection(reader, "listeners", "listener", config.listeners, readListener);
  const bool clusters_read =
      readSection(reader, "clusters", "cluster", config.clusters, readCluster);
  checkListeners(config, errors);
  checkAdmin(config, errors);
  checkClusters(config, errors);
  // Without a readable clusters list every route would be "unknown": one error says enough.
  if (clusters_read) {
    checkRoutes(config, errors);
    checkTcpClusters(config, errors);
  }
}

// yaml-cpp marks are 0-based; editors count lines and columns from 1.
FieldError syntaxError(const std::string& origin, const YAML::Exception& e) {
  if (e.mark.is_null()) return {origin, e.msg};
  return {origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
          e.msg};
}

ConfigResult<Config> readDocument(const YAML::Node& root, const std::string& origin) {
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    return FieldErrors{{origin, "expected a map of top-level fields, got " + yaml::describe(root)}};
  Errors errors;
  Config config;
  readConfig(root, errors, config);
  if (!errors.empty()) return errors.take();
  return config;
}

// Runs `load`, turning what yaml-cpp (or anything else) throws into an error.
template <typename Load>
ConfigResult<Config> guarded(const std::string& origin, Load load) {
  try {
    return load();
  } catch (const YAML::Exception& e) {
    return FieldErrors{syntaxError(origin, e)};
  } catch (const std::exception& e) {
    return FieldErrors{{origin, e.what()}};
  }
}

void emitAddress(YAML::Emitter& out, const char* key, const SocketAddress& address) {
  out << YAML::Key << key << YAML::Value << address.str();
}

void emitDuration(YAML::Emitter& out, const char* key, Duration duration) {
  out << YAML::Key << key << YAML::Value << yaml::formatDuration(duration);
}

void emitListener(YAML::Emitter& out, const Listener& listener) {
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << listener.name;
  emitAddress(out, "address", listener.address);
  if (listener.original_dst) out << YAML::Key << "original_dst" << YAML::Value << true;
  emitListenerProtocol(out, listener);
  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_request_headers_bytes" << YAML::Value
      << listener.limits.max_request_headers_bytes;
  out << YAML::Key << "max_request_headers" << YAML::Value << listener.limits.max_request_headers;
  out << YAML::Key << "buffer_high_watermark" << YAML::Value
      << listener.limits.buffer_high_watermark;
  out << YAML::EndMap;
  const ListenerHttp2& h2 = listener.http2;
  out << YAML::Key << "http2" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << (h2.enabled ? "auto" : "off");
  out << YAML::Key << "max_concurrent_streams" << YAML::Value << h2.max_concurrent_streams;
  out << YAML::Key << "initial_stream_window" << YAML::Value << h2.initial_stream_window;
  out << YAML::Key << "max_resets" << YAML::Value << h2.max_resets;
  out << YAML::Key << "max_settings_frames" << YAML::Value << h2.max_settings_frames;
  out << YAML::Key << "max_ping_frames" << YAML::Value << h2.max_ping_frames;
  out << YAML::Key << "max_empty_data_frames" << YAML::Value << h2.max_empty_data_frames;
  out << YAML::Key << "max_continuation_frames" << YAML::Value << h2.max_continuation_frames;
  emitDuration(out, "flood_window", h2.flood_window);
  out << YAML::EndMap;
  out << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
  emitDuration(out, "request_headers", listener.timeouts.request_headers);
  emitDuration(out, "idle", listener.timeouts.idle);
  emitDuration(out, "request", listener.timeouts.request);
  emitDuration(out, "grpc_max", listener.timeouts.grpc_max);
  out << YAML::EndMap;
  if (listener.tls) emitListenerTls(out, *listener.tls);
  emitRequestPolicy(out, listener);
  if (!listener.routes.empty()) {
    out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq;
    for (const Route& route : listener.routes) {
      out << YAML::BeginMap << YAML::Key << "prefix" << YAML::Value << route.prefix;
      out << YAML::Key << "cluster" << YAML::Value << route.cluster << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!listener.filters.empty()) {
    out << YAML::Key << "filters" << YAML::Value << YAML::BeginSeq;
    for (const FilterRef& f : listener.filters) emitFilterRef(out, f);
    out << YAML::EndSeq;
    out << YAML::Key << "filter_order" << YAML::Value
        << (listener.order_by_priority ? "priority" : "config");
    out << YAML::Key << "filter_defaults" << YAML::Value << YAML::BeginMap;
    emitOnError(out, listener.on_error);
    emitQuarantine(out, listener.quarantine);
    out << YAML::EndMap;
    if (!listener.filter_overrides.empty()) {
      out << YAML::Key << "filter_overrides" << YAML::Value << YAML::BeginSeq;
      for (const FilterOverride& o : listener.filter_overrides) {
        out << YAML::BeginMap << YAML::Key << "prefix" << YAML::Value << o.prefix;
        out << YAML::Key << "disable" << YAML::Value << YAML::Flow << o.disable << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
  }
  out << YAML::EndMap;
}

void emitCluster(YAML::Emitter& out, const Cluster& cluster) {
  out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << cluster.name;
  emitClusterEndpoints(out, cluster);
  out << YAML::Key << "lb_policy" << YAML::Value
      << (cluster.lb_policy == LbPolicy::kLeastRequest ? "least_request" : "round_robin");
  emitDuration(out, "connect_timeout", cluster.connect_timeout);
  emitDuration(out, "response_timeout", cluster.response_timeout);
  out << YAML::Key << "max_connections_per_endpoint" << YAML::Value
      << cluster.max_connections_per_endpoint;
  out << YAML::Key << "max_pending_requests" << YAML::Value << cluster.max_pending_requests;
  out << YAML::Key << "max_connect_attempts" << YAML::Value << cluster.max_connect_attempts;
  emitDuration(out, "idle_timeout", cluster.idle_timeout);
  if (cluster.health_check.enabled()) {
    out << YAML::Key << "health_check" << YAML::Value;
    emitHealthCheck(out, cluster.health_check);
  }
  out << YAML::Key << "protocol" << YAML::Value
      << (cluster.protocol == UpstreamProtocol::kHttp2 ? "http2" : "http1");
  out << YAML::Key << "http2" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_concurrent_streams" << YAML::Value
      << cluster.http2.max_concurrent_streams;
  out << YAML::Key << "initial_window_size" << YAML::Value << cluster.http2.initial_window_size;
  emitDuration(out, "keepalive_interval", cluster.http2.keepalive_interval);
  emitDuration(out, "keepalive_timeout", cluster.http2.keepalive_timeout);
  out << YAML::EndMap;
  if (cluster.tls) emitClusterTls(out, *cluster.tls);
  out << YAML::EndMap;
}

}  // namespace

ConfigResult<Config> loadFromString(const std::string& yaml, const std::string& origin) {
  return guarded(origin, [&]() -> ConfigResult<Config> {
    // A second document would be silently ignored by YAML::Load: count them first. The count
    // is capped because a stream of documents says nothing more after the second.
    const size_t documents = yaml::countDocuments(yaml, kMaxDocumentsCounted);
    if (documents > 1) {
      const std::string count = documents < kMaxDocumentsCounted
                                    ? std::to_string(documents)
                                    : "at least " + std::to_string(documents);
      return FieldErrors{{origin, "expected one YAML document, got " + count}};
    }
    // An empty file reads as an empty map: the errors then name the required sections.
    return readDocument(YAML::Load(yaml), origin);
  });
}

ConfigResult<Config> loadFromDocument(const YAML::Node& root, const std::string& origin) {
  return guarded(origin, [&] { return readDocument(root, origin); });
}

ConfigResult<Config> loadFromFile(const std::string& path) {
  // A directory opens fine and reads as empty, which would report missing sections instead.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return FieldErrors{{path, std::string("cannot open: ") + std::strerror(EISDIR)}};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return FieldErrors{{path, std::string("cannot open: ") + std::strerror(errno)}};
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return FieldErrors{{path, std::string("cannot read: ") + std::strerror(errno)}};
  return loadFromString(text.str(), path);
}

std::string toYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "workers" << YAML::Value << config.workers;
  out << YAML::Key << "log_level" << YAML::Value << config.log_level;
  out << YAML::Key << "config_watch" << YAML::Value << config.config_watch;
  emitAdmin(out, config.admin);
  out << YAML::Key << "drain" << YAML::Value << YAML::BeginMap;
  emitDuration(out, "grace_period", config.drain.grace_period);
  emitDuration(out, "deadline", config.drain.deadline);
  out << YAML::EndMap;
  out << YAML::Key << "plugins" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << config.plugins.dir;
  out << YAML::Key << "cache_dir" << YAML::Value << YAML::DoubleQuoted << config.plugins.cache_dir;
  out << YAML::EndMap;
  emitSources(out, config);
  out << YAML::Key << "listeners" << YAML::Value << YAML::BeginSeq;
  for (const Listener& listener : config.listeners) emitListener(out, listener);
  out << YAML::EndSeq;
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq;
  for (const Cluster& cluster : config.clusters) emitCluster(out, cluster);
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace remora::config
