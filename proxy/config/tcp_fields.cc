#include "config/tcp_fields.h"

#include <algorithm>
#include <cctype>

namespace remora::config {
namespace {

using yaml::MapReader;

constexpr std::string_view kSni = "a server name, e.g. api.example.com or *.example.com";

// A DNS name of letters, digits, '-' and '.', optionally "*." first; stored lower case.
bool readSni(const YAML::Node& node, std::string& out) {
  if (!node.IsScalar()) return false;
  std::string name = node.Scalar();
  std::string_view rest = name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.empty() || rest.size() > 253 || rest.front() == '.' || rest.back() == '.') return false;
  const bool ok = std::all_of(rest.begin(), rest.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.';
  });
  if (!ok || rest.find("..") != std::string_view::npos) return false;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  out = std::move(name);
  return true;
}

void readSniRoutes(const MapReader& tcp, std::vector<SniRoute>& out) {
  const YAML::Node list = tcp.get("sni_routes");
  if (!list.IsDefined()) return;
  const std::string path = tcp.path("sni_routes");
  if (!list.IsSequence()) return tcp.errors().expected(path, "a list of {sni, cluster}", list);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = yaml::indexPath(path, i);
    const MapReader route(list[i], at, {"sni", "cluster"}, tcp.errors());
    if (!route.isMap()) continue;
    SniRoute r;
    const YAML::Node sni = route.get("sni");
    if (!sni.IsDefined()) {
      tcp.errors().add(route.path("sni"), "required");
    } else if (!readSni(sni, r.sni)) {
      tcp.errors().expected(route.path("sni"), kSni, sni);
    }
    route.readString("cluster", true, "a cluster name", r.cluster);
    out.push_back(std::move(r));
  }
}

void readOpaquePorts(const MapReader& listener, std::vector<uint16_t>& out) {
  const YAML::Node list = listener.get("opaque_ports");
  if (!list.IsDefined()) return;
  const std::string path = listener.path("opaque_ports");
  if (!list.IsSequence()) return listener.errors().expected(path, "a list of ports", list);
  constexpr std::string_view kPort = "a port number 1..65535";
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node entry = list[i];
    unsigned long port = 0;
    const std::string text = entry.IsScalar() ? entry.Scalar() : std::string();
    const bool digits =
        !text.empty() && text.size() <= 5 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (digits) port = std::stoul(text);
    if (!digits || port == 0 || port > 65535) {
      listener.errors().expected(yaml::indexPath(path, i), kPort, entry);
      continue;
    }
    out.push_back(uint16_t(port));
  }
}

const char* protocolName(ListenerProtocol p) {
  switch (p) {
    case ListenerProtocol::kTcp:
      return "tcp";
    case ListenerProtocol::kAuto:
      return "auto";
    case ListenerProtocol::kHttp:
      break;
  }
  return "http";
}

}  // namespace

bool sniMatches(std::string_view pattern, std::string_view sni) {
  if (pattern.substr(0, 2) != "*.") return pattern == sni;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  return sni.size() > suffix.size() && sni.substr(sni.size() - suffix.size()) == suffix;
}

void readListenerProtocol(const MapReader& listener, Listener& out) {
  out.protocol = out.original_dst ? ListenerProtocol::kAuto : ListenerProtocol::kHttp;
  listener.readChoice<ListenerProtocol>("protocol",
                                        {{"http", ListenerProtocol::kHttp},
                                         {"tcp", ListenerProtocol::kTcp},
                                         {"auto", ListenerProtocol::kAuto}},
                                        out.protocol);
  listener.readDuration("detection_timeout", Duration(1), out.detection_timeout);
  readOpaquePorts(listener, out.opaque_ports);
  const MapReader tcp(listener.get("tcp"), listener.path("tcp"),
                      {"cluster", "sni_routes", "idle_timeout", "max_connect_attempts"},
                      listener.errors());
  tcp.readString("cluster", false, "a cluster name", out.tcp.cluster);
  readSniRoutes(tcp, out.tcp.sni_routes);
  tcp.readDuration("idle_timeout", Duration(0), out.tcp.idle);  // 0 = no idle timeout
  tcp.readUint("max_connect_attempts", 1, 16, out.tcp.max_connect_attempts);
  if (out.protocol == ListenerProtocol::kHttp) {
    if (listener.get("tcp").IsDefined())
      listener.errors().add(listener.path("tcp"), "needs protocol: tcp or auto");
    if (listener.get("opaque_ports").IsDefined())
      listener.errors().add(listener.path("opaque_ports"), "needs protocol: auto");
  }
  if (out.protocol == ListenerProtocol::kTcp && out.tcp.cluster.empty() && !out.original_dst)
    listener.errors().add(tcp.path("cluster"), "required for protocol: tcp");
}

void emitListenerProtocol(YAML::Emitter& out, const Listener& listener) {
  out << YAML::Key << "protocol" << YAML::Value << protocolName(listener.protocol);
  if (listener.protocol == ListenerProtocol::kHttp) return;
  out << YAML::Key << "detection_timeout" << YAML::Value
      << yaml::formatDuration(listener.detection_timeout);
  if (!listener.opaque_ports.empty())
    out << YAML::Key << "opaque_ports" << YAML::Value << YAML::Flow << listener.opaque_ports;
  const ListenerTcp& tcp = listener.tcp;
  out << YAML::Key << "tcp" << YAML::Value << YAML::BeginMap;
  if (!tcp.cluster.empty()) out << YAML::Key << "cluster" << YAML::Value << tcp.cluster;
  if (!tcp.sni_routes.empty()) {
    out << YAML::Key << "sni_routes" << YAML::Value << YAML::BeginSeq;
    for (const SniRoute& r : tcp.sni_routes)
      out << YAML::BeginMap << YAML::Key << "sni" << YAML::Value << r.sni << YAML::Key << "cluster"
          << YAML::Value << r.cluster << YAML::EndMap;
    out << YAML::EndSeq;
  }
  out << YAML::Key << "idle_timeout" << YAML::Value << yaml::formatDuration(tcp.idle);
  out << YAML::Key << "max_connect_attempts" << YAML::Value << tcp.max_connect_attempts;
  out << YAML::EndMap;
}

void checkTcpClusters(const Config& config, yaml::Errors& errors) {
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerTcp& tcp = config.listeners[i].tcp;
    const std::string path = yaml::indexPath("listeners", i) + ".tcp";
    if (!tcp.cluster.empty() && !config.findCluster(tcp.cluster))
      errors.add(path + ".cluster", "unknown cluster " + yaml::quote(tcp.cluster));
    for (size_t j = 0; j < tcp.sni_routes.size(); ++j) {
      const std::string& name = tcp.sni_routes[j].cluster;
      if (!name.empty() && !config.findCluster(name))
        errors.add(yaml::indexPath(path + ".sni_routes", j) + ".cluster",
                   "unknown cluster " + yaml::quote(name));
    }
  }
}

}  // namespace remora::config
