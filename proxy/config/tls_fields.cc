#include "config/tls_fields.h"

#include "config/cluster_fields.h"

namespace remora::config {
namespace {

using network::ClientCertificate;
using network::TlsProtocol;
using network::TlsVersion;

// A list of non-empty strings; absent leaves `out` as it is.
void readStrings(const yaml::MapReader& reader, std::string_view key, std::string_view item,
                 std::vector<std::string>& out) {
  const YAML::Node list = reader.get(key);
  if (!list.IsDefined()) return;
  if (!list.IsSequence()) return reader.errors().expected(reader.path(key), "a list", list);
  std::vector<std::string> values;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node entry = list[i];
    if (!entry.IsScalar() || entry.Scalar().empty()) {
      reader.errors().expected(yaml::indexPath(reader.path(key), i), item, entry);
      continue;
    }
    values.push_back(entry.Scalar());
  }
  out = std::move(values);
}

void readProtocol(const yaml::MapReader& reader, TlsProtocol& p) {
  reader.readChoice<TlsVersion>(
      "min_version", {{"1.2", TlsVersion::k1_2}, {"1.3", TlsVersion::k1_3}}, p.min_version);
  reader.readChoice<TlsVersion>(
      "max_version", {{"1.2", TlsVersion::k1_2}, {"1.3", TlsVersion::k1_3}}, p.max_version);
  if (p.min_version == TlsVersion::k1_3 && p.max_version == TlsVersion::k1_2)
    reader.errors().add(reader.path("max_version"), "below min_version");
  readStrings(reader, "cipher_suites", "a cipher suite name", p.cipher_suites);
  readStrings(reader, "groups", "a group name (X25519, P-256, ...)", p.groups);
}

constexpr std::string_view kFile = "a file path";

void readFiles(const yaml::MapReader& reader, bool required, network::TlsCertificateFiles& out) {
  reader.readString("certificate_file", required, kFile, out.certificate_file);
  reader.readString("key_file", required, kFile, out.key_file);
  if (!required && out.certificate_file.empty() != out.key_file.empty()) {
    const char* missing = out.key_file.empty() ? "key_file" : "certificate_file";
    reader.errors().add(
        reader.path(missing),
        "needed with " + std::string(out.key_file.empty() ? "certificate_file" : "key_file"));
  }
}

const char* versionName(TlsVersion v) {
  return v == TlsVersion::k1_3 ? "1.3" : "1.2";
}

void emitStrings(YAML::Emitter& out, const char* key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::Flow << values;
}

void emitProtocol(YAML::Emitter& out, const TlsProtocol& p) {
  out << YAML::Key << "min_version" << YAML::Value << YAML::DoubleQuoted
      << versionName(p.min_version);
  out << YAML::Key << "max_version" << YAML::Value << YAML::DoubleQuoted
      << versionName(p.max_version);
  emitStrings(out, "cipher_suites", p.cipher_suites);
  emitStrings(out, "groups", p.groups);
}

}  // namespace

void readListenerTls(const yaml::MapReader& listener, Listener& out) {
  const YAML::Node node = listener.get("tls");
  if (!node.IsDefined() || node.IsNull()) return;
  const yaml::MapReader reader(
      node, listener.path("tls"),
      {"certificates", "strict_sni", "min_version", "max_version", "cipher_suites", "groups",
       "alpn", "client_certificate", "ca_file", "allowed_sans", "handshake_timeout",
       "max_handshakes", "session_tickets"},
      listener.errors());
  if (!reader.isMap()) return;
  network::TlsServerOptions& tls = out.tls.emplace();
  if (const auto list = reader.readNonEmptyList("certificates", "certificate")) {
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string at = yaml::indexPath(reader.path("certificates"), i);
      const yaml::MapReader entry((*list)[i], at, {"certificate_file", "key_file"},
                                  listener.errors());
      readFiles(entry, true, tls.certificates.emplace_back());
    }
  }
  readBool(reader, "strict_sni", tls.strict_sni);
  readProtocol(reader, tls.protocol);
  readStrings(reader, "alpn", "a protocol name (h2, http/1.1)", tls.alpn);
  for (size_t i = 0; i < tls.alpn.size(); ++i) {
    const std::string& p = tls.alpn[i];
    if (p != "h2" && p != "http/1.1") {
      reader.errors().add(yaml::indexPath(reader.path("alpn"), i),
                          "expected h2 or http/1.1, got " + yaml::quote(p));
    } else if (p == "h2" && !out.http2.enabled) {
      reader.errors().add(yaml::indexPath(reader.path("alpn"), i),
                          "h2 needs the listener's http2.mode: auto");
    }
  }
  reader.readChoice<ClientCertificate>("client_certificate",
                                       {{"none", ClientCertificate::kNone},
                                        {"optional", ClientCertificate::kOptional},
                                        {"required", ClientCertificate::kRequired}},
                                       tls.client_certificate);
  reader.readString("ca_file", false, kFile, tls.ca_file);
  readStrings(reader, "allowed_sans", "a SAN (spiffe://..., a DNS name, or a prefix ending in *)",
              tls.allowed_sans);
  const bool verifies = tls.client_certificate != ClientCertificate::kNone;
  if (verifies && tls.ca_file.empty())
    reader.errors().add(
        reader.path("ca_file"),
        "client_certificate: " +
            std::string(tls.client_certificate == ClientCertificate::kRequired ? "required"
                                                                               : "optional") +
            " needs a CA bundle to verify with");
  if (!verifies && !tls.allowed_sans.empty())
    reader.errors().add(reader.path("allowed_sans"),
                        "needs client_certificate: required or optional");
  reader.readDuration("handshake_timeout", Duration{1}, tls.handshake_timeout);
  reader.readUint("max_handshakes", 1, 1000000, tls.max_handshakes);
  readBool(reader, "session_tickets", tls.session_tickets);
}

void readClusterTls(const yaml::MapReader& cluster, Cluster& out) {
  const YAML::Node node = cluster.get("tls");
  if (!node.IsDefined() || node.IsNull()) return;
  const yaml::MapReader reader(
      node, cluster.path("tls"),
      {"sni", "ca_file", "insecure_skip_verify", "verify_sans", "certificate_file", "key_file",
       "min_version", "max_version", "cipher_suites", "groups"},
      cluster.errors());
  if (!reader.isMap()) return;
  network::TlsClientOptions& tls = out.tls.emplace();
  reader.readString("sni", false, "a server name", tls.sni);
  reader.readString("ca_file", false, kFile, tls.ca_file);
  readBool(reader, "insecure_skip_verify", tls.insecure_skip_verify);
  readStrings(reader, "verify_sans", "a SAN (spiffe://..., a DNS name, or a prefix ending in *)",
              tls.verify_sans);
  if (tls.insecure_skip_verify && (!tls.verify_sans.empty() || !tls.ca_file.empty()))
    reader.errors().add(reader.path("insecure_skip_verify"),
                        "contradicts verify_sans and ca_file: nothing is verified with it");
  readFiles(reader, false, tls.client_certificate);
  readProtocol(reader, tls.protocol);
}

void emitListenerTls(YAML::Emitter& out, const network::TlsServerOptions& tls) {
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "certificates" << YAML::Value << YAML::BeginSeq;
  for (const network::TlsCertificateFiles& c : tls.certificates) {
    out << YAML::BeginMap << YAML::Key << "certificate_file" << YAML::Value << YAML::DoubleQuoted
        << c.certificate_file;
    out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << c.key_file
        << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "strict_sni" << YAML::Value << tls.strict_sni;
  emitProtocol(out, tls.protocol);
  emitStrings(out, "alpn", tls.alpn);
  const char* mode = tls.client_certificate == ClientCertificate::kRequired   ? "required"
                     : tls.client_certificate == ClientCertificate::kOptional ? "optional"
                                                                              : "none";
  out << YAML::Key << "client_certificate" << YAML::Value << mode;
  if (!tls.ca_file.empty())
    out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << tls.ca_file;
  emitStrings(out, "allowed_sans", tls.allowed_sans);
  out << YAML::Key << "handshake_timeout" << YAML::Value
      << yaml::formatDuration(tls.handshake_timeout);
  out << YAML::Key << "max_handshakes" << YAML::Value << tls.max_handshakes;
  out << YAML::Key << "session_tickets" << YAML::Value << tls.session_tickets;
  out << YAML::EndMap;
}

void emitClusterTls(YAML::Emitter& out, const network::TlsClientOptions& tls) {
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  if (!tls.sni.empty()) out << YAML::Key << "sni" << YAML::Value << tls.sni;
  if (!tls.ca_file.empty())
    out << YAML::Key << "ca_file" << YAML::Value << YAML::DoubleQuoted << tls.ca_file;
  out << YAML::Key << "insecure_skip_verify" << YAML::Value << tls.insecure_skip_verify;
  emitStrings(out, "verify_sans", tls.verify_sans);
  if (!tls.client_certificate.certificate_file.empty()) {
    out << YAML::Key << "certificate_file" << YAML::Value << YAML::DoubleQuoted
        << tls.client_certificate.certificate_file;
    out << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted
        << tls.client_certificate.key_file;
  }
  emitProtocol(out, tls.protocol);
  out << YAML::EndMap;
}

}  // namespace remora::config
