#include "network/tls_identity.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace remora::network {
namespace {

std::string asn1String(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     size_t(ASN1_STRING_length(s)));
}

std::string nameText(const X509_NAME* name) {
  char buf[512];
  X509_NAME_oneline(name, buf, sizeof(buf));
  return buf;
}

std::string commonName(X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return {};
  return asn1String(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
}

int64_t epochOf(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return int64_t(timegm(&tm));
}

}  // namespace

CertificateSans sansOf(X509* cert) {
  CertificateSans out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI) out.uris.push_back(asn1String(n->d.uniformResourceIdentifier));
    if (n->type == GEN_DNS) out.dns.push_back(asn1String(n->d.dNSName));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

PeerIdentity identityOf(X509* cert) {
  PeerIdentity id;
  CertificateSans sans = sansOf(cert);
  for (const std::string& uri : sans.uris) {
    if (uri.starts_with("spiffe://")) {
      id.identity = uri;
      break;
    }
  }
  if (id.identity.empty() && !sans.dns.empty()) id.identity = sans.dns.front();
  if (id.identity.empty()) id.identity = commonName(cert);
  id.cert_sha256 = sha256Hex(cert);
  return id;
}

bool sanPatternMatches(std::string_view pattern, std::string_view san) {
  if (!pattern.empty() && pattern.back() == '*')
    return san.starts_with(pattern.substr(0, pattern.size() - 1));
  return san == pattern;
}

bool sanAllowed(X509* cert, const std::vector<std::string>& allowed) {
  CertificateSans sans = sansOf(cert);
  for (const std::string& pattern : allowed) {
    for (const std::string& s : sans.uris)
      if (sanPatternMatches(pattern, s)) return true;
    for (const std::string& s : sans.dns)
      if (sanPatternMatches(pattern, s)) return true;
  }
  return false;
}

CertificateSummary summarize(X509* cert) {
  CertificateSummary s;
  s.subject = nameText(X509_get_subject_name(cert));
  s.issuer = nameText(X509_get_issuer_name(cert));
  CertificateSans sans = sansOf(cert);
  for (const std::string& u : sans.uris) s.sans.push_back("URI:" + u);
  for (const std::string& d : sans.dns) s.sans.push_back("DNS:" + d);
  s.not_before = epochOf(X509_get0_notBefore(cert));
  s.not_after = epochOf(X509_get0_notAfter(cert));
  s.sha256 = sha256Hex(cert);
  return s;
}

}  // namespace remora::network
