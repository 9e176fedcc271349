#include "config/cluster_fields.h"

#include "config/discovery_fields.h"

namespace remora::config {
namespace {

constexpr Duration kOneMs{1};

void readStatuses(const yaml::MapReader& reader, HealthCheck& check) {
  const YAML::Node list = reader.get("expected_statuses");
  if (!list.IsDefined()) return;
  constexpr std::string_view kStatus = "an HTTP status 100-599";
  if (!list.IsSequence() || list.size() == 0) {
    reader.errors().expected(reader.path("expected_statuses"), "a non-empty list of statuses",
                             list);
    return;
  }
  std::vector<uint32_t> statuses;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = yaml::indexPath(reader.path("expected_statuses"), i);
    const YAML::Node item = list[i];
    uint32_t status = 0;
    bool ok = item.IsScalar() && !item.Scalar().empty() &&
              item.Scalar().find_first_not_of("0123456789") == std::string::npos &&
              item.Scalar().size() <= 3;
    if (ok) status = uint32_t(std::stoul(item.Scalar()));
    if (!ok || status < 100 || status > 599) {
      reader.errors().expected(path, kStatus, item);
      continue;
    }
    statuses.push_back(status);
  }
  check.expected_statuses = std::move(statuses);
}

}  // namespace

void readBool(const yaml::MapReader& reader, std::string_view key, bool& out) {
  const YAML::Node value = reader.get(key);
  if (!value.IsDefined()) return;
  if (value.IsScalar()) {
    const std::string& s = value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") {
      out = true;
      return;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out = false;
      return;
    }
  }
  reader.errors().expected(reader.path(key), "true or false", value);
}

const char* clusterTypeName(ClusterType type) {
  switch (type) {
    case ClusterType::kOriginalDst:
      return "original_dst";
    case ClusterType::kEtcd:
      return "etcd";
    case ClusterType::kDns:
      return "dns";
    case ClusterType::kStatic:
      break;
  }
  return "static";
}

void readClusterEndpoints(const yaml::MapReader& reader, Cluster& cluster) {
  reader.readChoice<ClusterType>("type",
                                 {{"static", ClusterType::kStatic},
                                  {"original_dst", ClusterType::kOriginalDst},
                                  {"etcd", ClusterType::kEtcd},
                                  {"dns", ClusterType::kDns}},
                                 cluster.type);
  const bool discovered = cluster.type == ClusterType::kEtcd || cluster.type == ClusterType::kDns;
  if (!discovered && reader.get("discovery").IsDefined())
    reader.errors().add(reader.path("discovery"), "only for type: etcd or dns");
  if (cluster.type != ClusterType::kStatic) {
    if (reader.get("endpoints").IsDefined()) {
      reader.errors().add(reader.path("endpoints"),
                          cluster.type == ClusterType::kOriginalDst
                              ? "must be absent for type original_dst (each request goes to its "
                                "connection's original destination)"
                              : "only for type: static (this cluster discovers its endpoints)");
    }
    if (discovered) readDiscovery(reader, cluster.type, cluster.discovery);
    return;
  }
  if (const auto endpoints = reader.readNonEmptyList("endpoints", "host:port")) {
    for (size_t i = 0; i < endpoints->size(); ++i) {
      SocketAddress address;
      if (yaml::readAddress((*endpoints)[i], yaml::indexPath(reader.path("endpoints"), i),
                            reader.errors(), address)) {
        cluster.endpoints.push_back(std::move(address));
      }
    }
  }
}

void emitClusterEndpoints(YAML::Emitter& out, const Cluster& cluster) {
  if (cluster.type != ClusterType::kStatic)
    out << YAML::Key << "type" << YAML::Value << clusterTypeName(cluster.type);
  if (cluster.type == ClusterType::kStatic) {
    out << YAML::Key << "endpoints" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const SocketAddress& endpoint : cluster.endpoints) out << endpoint.str();
    out << YAML::EndSeq;
  }
  if (cluster.type == ClusterType::kEtcd || cluster.type == ClusterType::kDns)
    emitDiscovery(out, cluster.type, cluster.discovery);
}

void readHealthCheck(const yaml::MapReader& cluster_reader, Cluster& cluster) {
  const YAML::Node node = cluster_reader.get("health_check");
  if (!node.IsDefined()) return;
  const std::string path = cluster_reader.path("health_check");
  if (cluster.type == ClusterType::kOriginalDst) {
    cluster_reader.errors().add(path, "not supported for type original_dst (no fixed endpoints)");
    return;
  }
  const yaml::MapReader reader(node, path,
                               {"path", "interval", "timeout", "healthy_threshold",
                                "unhealthy_threshold", "expected_statuses"},
                               cluster_reader.errors());
  if (!reader.isMap()) return;
  HealthCheck& check = cluster.health_check;
  constexpr std::string_view kPath = "a path starting with \"/\"";
  std::string text;
  if (reader.readString("path", true, kPath, text)) {
    if (text.empty() || text.front() != '/' || text.find_first_of(" \t\r\n") != std::string::npos) {
      reader.errors().expected(reader.path("path"), kPath, reader.get("path"));
    } else {
      check.path = std::move(text);
    }
  }
  reader.readDuration("interval", kOneMs, check.interval);
  reader.readDuration("timeout", kOneMs, check.timeout);
  reader.readUint("healthy_threshold", 1, 1000, check.healthy_threshold);
  reader.readUint("unhealthy_threshold", 1, 1000, check.unhealthy_threshold);
  readStatuses(reader, check);
  // A check still running when the next is due would pile up connections to a slow endpoint.
  if (check.timeout > check.interval) {
    reader.errors().add(reader.path("timeout"),
                        "must not exceed interval (" + yaml::formatDuration(check.interval) +
                            "), got " + yaml::formatDuration(check.timeout));
  }
}

void emitHealthCheck(YAML::Emitter& out, const HealthCheck& check) {
  out << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << YAML::DoubleQuoted << check.path;
  out << YAML::Key << "interval" << YAML::Value << yaml::formatDuration(check.interval);
  out << YAML::Key << "timeout" << YAML::Value << yaml::formatDuration(check.timeout);
  out << YAML::Key << "healthy_threshold" << YAML::Value << check.healthy_threshold;
  out << YAML::Key << "unhealthy_threshold" << YAML::Value << check.unhealthy_threshold;
  out << YAML::Key << "expected_statuses" << YAML::Value << YAML::Flow << check.expected_statuses;
  out << YAML::EndMap;
}

}  // namespace remora::config
