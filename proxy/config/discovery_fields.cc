#include "config/discovery_fields.h"

#include <charconv>

namespace remora::config {

namespace {

using yaml::Errors;
using yaml::MapReader;

constexpr std::string_view kPrefix = "an etcd key prefix starting and ending with \"/\"";

bool validPrefix(const std::string& p) {
  return p.size() >= 2 && p.front() == '/' && p.back() == '/';
}

void readPrefix(const MapReader& reader, bool required, std::string& out) {
  std::string text;
  if (!reader.readString("prefix", required, kPrefix, text)) return;
  if (!validPrefix(text)) {
    reader.errors().expected(reader.path("prefix"), kPrefix, reader.get("prefix"));
    return;
  }
  out = std::move(text);
}

// "name:port" where name is a DNS name (letters, digits, '-', '.').
bool readHostPort(const YAML::Node& node, const std::string& path, Errors& errors, HostPort& out) {
  constexpr std::string_view kExpected = "name:port (a DNS name and a port 1..65535)";
  if (!node.IsScalar()) {
    errors.expected(path, kExpected, node);
    return false;
  }
  const std::string& text = node.Scalar();
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  bool ok = colon != std::string::npos && colon > 0 && colon + 1 < text.size();
  if (ok) {
    for (size_t i = 0; i < colon; ++i) {
      const char c = text[i];
      ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    }
    const char* begin = text.data() + colon + 1;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, port);
    ok &= ec == std::errc() && ptr == end && port >= 1 && port <= 65535;
  }
  if (!ok) {
    errors.expected(path, kExpected, node);
    return false;
  }
  out = HostPort{text.substr(0, colon), static_cast<uint16_t>(port)};
  return true;
}

}  // namespace

void readSources(const MapReader& root, EtcdSource& etcd) {
  const MapReader sources(root.get("sources"), root.path("sources"), {"etcd"}, root.errors());
  if (!sources.get("etcd").IsDefined()) return;
  const MapReader reader(sources.get("etcd"), sources.path("etcd"),
                         {"endpoints", "prefix", "instance"}, root.errors());
  if (const auto endpoints = reader.readNonEmptyList("endpoints", "host:port")) {
    for (size_t i = 0; i < endpoints->size(); ++i) {
      SocketAddress address;
      if (yaml::readAddress((*endpoints)[i], yaml::indexPath(reader.path("endpoints"), i),
                            reader.errors(), address)) {
        etcd.endpoints.push_back(std::move(address));
      }
    }
  }
  readPrefix(reader, true, etcd.prefix);
  if (reader.get("instance").IsDefined()) {
    std::string id;
    if (reader.readString("instance", false, "an instance id", id)) {
      // The id becomes part of etcd keys: no slash, so one instance is one key.
      if (id.empty() || id.find('/') != std::string::npos) {
        reader.errors().expected(reader.path("instance"), "an instance id without \"/\"",
                                 reader.get("instance"));
      } else {
        etcd.instance = std::move(id);
      }
    }
  }
}

void readRegistration(const MapReader& root, Registration& registration) {
  if (!root.get("registration").IsDefined()) return;
  const MapReader reader(root.get("registration"), root.path("registration"),
                         {"service", "address", "prefix", "ttl"}, root.errors());
  reader.readName("service", registration.service);
  reader.readAddress("address", true, registration.address);
  readPrefix(reader, false, registration.prefix);
  // etcd leases count in whole seconds; below 2 s a single slow keepalive loses the lease.
  reader.readDuration("ttl", Duration{2000}, registration.ttl);
}

void readDiscovery(const MapReader& cluster, ClusterType type, Discovery& d) {
  const MapReader reader(cluster.get("discovery"), cluster.path("discovery"),
                         {"prefix", "hosts", "refresh"}, cluster.errors());
  if (!cluster.get("discovery").IsDefined()) {
    cluster.errors().expected(cluster.path("discovery"),
                              type == ClusterType::kEtcd ? "a map with prefix" : "a map with hosts",
                              cluster.get("discovery"));
    return;
  }
  if (type == ClusterType::kEtcd) {
    readPrefix(reader, true, d.prefix);
    for (const char* key : {"hosts", "refresh"})
      if (reader.get(key).IsDefined()) reader.errors().add(reader.path(key), "only for type: dns");
    return;
  }
  if (reader.get("prefix").IsDefined())
    reader.errors().add(reader.path("prefix"), "only for type: etcd");
  if (const auto hosts = reader.readNonEmptyList("hosts", "name:port")) {
    for (size_t i = 0; i < hosts->size(); ++i) {
      HostPort hp;
      if (readHostPort((*hosts)[i], yaml::indexPath(reader.path("hosts"), i), reader.errors(), hp))
        d.hosts.push_back(std::move(hp));
    }
  }
  reader.readDuration("refresh", Duration{100}, d.refresh);
}

void emitSources(YAML::Emitter& out, const Config& config) {
  if (!config.etcd.endpoints.empty()) {
    out << YAML::Key << "sources" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "etcd" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "endpoints" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const SocketAddress& a : config.etcd.endpoints) out << a.str();
    out << YAML::EndSeq;
    out << YAML::Key << "prefix" << YAML::Value << config.etcd.prefix;
    if (!config.etcd.instance.empty())
      out << YAML::Key << "instance" << YAML::Value << YAML::DoubleQuoted << config.etcd.instance;
    out << YAML::EndMap << YAML::EndMap;
  }
  const Registration& r = config.registration;
  if (!r.service.empty()) {
    out << YAML::Key << "registration" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "service" << YAML::Value << r.service;
    out << YAML::Key << "address" << YAML::Value << r.address.str();
    out << YAML::Key << "prefix" << YAML::Value << r.prefix;
    out << YAML::Key << "ttl" << YAML::Value << yaml::formatDuration(r.ttl);
    out << YAML::EndMap;
  }
}

void emitDiscovery(YAML::Emitter& out, ClusterType type, const Discovery& d) {
  out << YAML::Key << "discovery" << YAML::Value << YAML::BeginMap;
  if (type == ClusterType::kEtcd) {
    out << YAML::Key << "prefix" << YAML::Value << d.prefix;
  } else {
    out << YAML::Key << "hosts" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const HostPort& h : d.hosts) out << h.str();
    out << YAML::EndSeq;
    out << YAML::Key << "refresh" << YAML::Value << yaml::formatDuration(d.refresh);
  }
  out << YAML::EndMap;
}

}  // namespace remora::config
