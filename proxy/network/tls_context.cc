#include "network/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "network/tls_ticket_keys.h"

namespace remora::network {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string sslError() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// The file's bytes, or an error naming it and why it could not be read.
Result<std::string> readFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read " + file + ": " + std::strerror(errno)};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

BioPtr memBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), int(bytes.size())));
}

// Every certificate in a PEM file (a CA bundle): summaries for `/certs`.
std::vector<CertificateSummary> summarizeFile(const std::string& bytes) {
  std::vector<CertificateSummary> out;
  BioPtr bio = memBio(bytes);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.push_back(summarize(cert));
    X509_free(cert);
  }
  ERR_clear_error();
  return out;
}

int tlsVersion(TlsVersion v) {
  return v == TlsVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// The defaults: forward-secret AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305).
constexpr const char* kDefaultTls12Suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kDefaultTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kDefaultGroups = "X25519:P-256";

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out.push_back(':');
    out += p;
  }
  return out;
}

// Versions, suites and groups, each configured name checked by OpenSSL itself.
void applyProtocol(SSL_CTX* ctx, const TlsProtocol& p, const std::string& path,
                   FieldErrors& errors) {
  SSL_CTX_set_min_proto_version(ctx, tlsVersion(p.min_version));
  SSL_CTX_set_max_proto_version(ctx, tlsVersion(p.max_version));
  std::vector<std::string> tls12, tls13;
  for (size_t i = 0; i < p.cipher_suites.size(); ++i) {
    const std::string& name = p.cipher_suites[i];
    const std::string field = path + ".cipher_suites[" + std::to_string(i) + "]";
    bool is13 = name.starts_with("TLS_");
    int ok = is13 ? SSL_CTX_set_ciphersuites(ctx, name.c_str())
                  : SSL_CTX_set_cipher_list(ctx, name.c_str());
    ERR_clear_error();
    if (ok != 1) {
      errors.push_back({field, "unknown cipher suite '" + name + "'"});
    } else if (!is13 && (name.find("ECDHE") == std::string::npos ||
                         (name.find("GCM") == std::string::npos &&
                          name.find("CHACHA20") == std::string::npos))) {
      errors.push_back({field, "'" + name +
                                   "' is not a forward-secret AEAD suite (ECDHE with "
                                   "AES-GCM or CHACHA20-POLY1305)"});
    }
    (is13 ? tls13 : tls12).push_back(name);
  }
  // A configured list replaces the defaults of the versions it names, and only those.
  SSL_CTX_set_cipher_list(ctx, tls12.empty() ? kDefaultTls12Suites : joined(tls12).c_str());
  SSL_CTX_set_ciphersuites(ctx, tls13.empty() ? kDefaultTls13Suites : joined(tls13).c_str());
  ERR_clear_error();
  for (size_t i = 0; i < p.groups.size(); ++i) {
    if (SSL_CTX_set1_groups_list(ctx, p.groups[i].c_str()) != 1) {
      ERR_clear_error();
      errors.push_back(
          {path + ".groups[" + std::to_string(i) + "]", "unknown group '" + p.groups[i] + "'"});
    }
  }
  SSL_CTX_set1_groups_list(ctx, p.groups.empty() ? kDefaultGroups : joined(p.groups).c_str());
  ERR_clear_error();
}

void applyCommon(SSL_CTX* ctx) {
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle connections give their read and write buffers back (≈ 34 KiB each otherwise).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
}

// Loads a CA bundle as the verify store: errors at `field`.
void loadCas(SSL_CTX* ctx, const std::string& file, const std::string& field, FieldErrors& errors,
             std::vector<CertificateSummary>& summaries) {
  auto bytes = readFile(file);
  if (!bytes) return errors.push_back({field, bytes.error()});
  summaries = summarizeFile(bytes.value());
  if (summaries.empty() || SSL_CTX_load_verify_file(ctx, file.c_str()) != 1) {
    ERR_clear_error();
    errors.push_back({field, "no PEM certificate in " + file});
  }
}

// Checks the peer's leaf against the context's SAN list (the app data), once the chain is good.
int verifyPeer(int ok, X509_STORE_CTX* store) {
  if (ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return ok;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* sans =
      static_cast<const std::vector<std::string>*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (sans == nullptr || sans->empty()) return 1;
  if (sanAllowed(X509_STORE_CTX_get_current_cert(store), *sans)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  if (TlsTransport* t = TlsTransport::of(ssl)) t->setFailure(TlsFailure::kIdentityNotAllowed);
  return 0;
}

std::string alpnWire(const std::vector<std::string>& names) {
  std::string wire;
  for (const std::string& n : names) {
    wire.push_back(char(n.size()));
    wire += n;
  }
  return wire;
}

}  // namespace

LoadedCertificate::~LoadedCertificate() {
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
}

ConfigResult<std::unique_ptr<LoadedCertificate>> loadCertificate(const TlsCertificateFiles& files,
                                                                 const std::string& path) {
  const std::string cert_field = path + ".certificate_file";
  const std::string key_field = path + ".key_file";
  FieldErrors errors;
  auto cert_bytes = readFile(files.certificate_file);
  auto key_bytes = readFile(files.key_file);
  if (!cert_bytes) errors.push_back({cert_field, cert_bytes.error()});
  if (!key_bytes) errors.push_back({key_field, key_bytes.error()});
  if (!errors.empty()) return errors;
  auto out = std::make_unique<LoadedCertificate>();
  out->file = files.certificate_file;
  BioPtr bio = memBio(cert_bytes.value());
  out->leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (out->leaf == nullptr) {
    ERR_clear_error();
    return FieldErrors{{cert_field, "no PEM certificate in " + files.certificate_file}};
  }
  out->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    sk_X509_push(out->chain, extra);
  ERR_clear_error();
  BioPtr key_bio = memBio(key_bytes.value());
  out->key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (out->key == nullptr) {
    ERR_clear_error();
    return FieldErrors{{key_field, "no PEM private key in " + files.key_file}};
  }
  if (X509_check_private_key(out->leaf, out->key) != 1) {
    ERR_clear_error();
    return FieldErrors{{key_field, "the key in " + files.key_file +
                                       " does not match the certificate in " +
                                       files.certificate_file}};
  }
  out->summary = summarize(out->leaf);
  if (X509_cmp_current_time(X509_get0_notAfter(out->leaf)) < 0) {
    return FieldErrors{{cert_field, files.certificate_file + " expired (not after " +
                                        std::to_string(out->summary.not_after) + ", epoch s)"}};
  }
  CertificateSans sans = sansOf(out->leaf);
  for (const std::string& d : sans.dns) out->names.push_back(lower(d));
  if (out->names.empty()) {
    PeerIdentity id = identityOf(out->leaf);
    if (!id.identity.empty() && sans.uris.empty()) out->names.push_back(lower(id.identity));
  }
  return out;
}

// --- Termination ---------------------------------------------------------------------------

ConfigResult<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(
    const TlsServerOptions& options, const std::string& path, bool http2) {
  std::shared_ptr<TlsServerContext> self(new TlsServerContext());
  self->self_ = self;
  self->options_ = options;
  FieldErrors errors;
  if (options.certificates.empty())
    errors.push_back({path + ".certificates", "a TLS listener needs at least one certificate"});
  for (size_t i = 0; i < options.certificates.size(); ++i) {
    auto loaded =
        loadCertificate(options.certificates[i], path + ".certificates[" + std::to_string(i) + "]");
    if (!loaded) {
      append(errors, loaded.error());
      continue;
    }
    const size_t index = self->certs_.size();
    for (const std::string& name : loaded.value()->names) {
      if (name.starts_with("*."))
        self->wildcard_.emplace(name.substr(2), index);
      else
        self->exact_.emplace(name, index);
    }
    self->certs_.push_back(std::move(loaded.value()));
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  self->ctx_ = ctx;
  applyCommon(ctx);
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  applyProtocol(ctx, options.protocol, path, errors);
  if (options.client_certificate != ClientCertificate::kNone) {
    int mode = SSL_VERIFY_PEER;
    if (options.client_certificate == ClientCertificate::kRequired)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, verifyPeer);
    SSL_CTX_set_app_data(ctx, &self->options_.allowed_sans);
    if (options.ca_file.empty()) {
      errors.push_back({path + ".ca_file", "client_certificate needs a CA bundle to verify with"});
    } else {
      loadCas(ctx, options.ca_file, path + ".ca_file", errors, self->cas_);
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca_file.c_str()))
        SSL_CTX_set_client_CA_list(ctx, names);
      ERR_clear_error();
    }
  }
  // Resumption by tickets only (no server-side cache to share between workers), with keys
  // every context of the process shares and rotates (tls_ticket_keys.h).
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static constexpr unsigned char kSessionContext[] = "remora";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (options.session_tickets) {
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketKeys::callback);
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  std::vector<std::string> alpn = options.alpn;
  if (alpn.empty())
    alpn =
        http2 ? std::vector<std::string>{"h2", "http/1.1"} : std::vector<std::string>{"http/1.1"};
  self->alpn_ = alpnWire(alpn);
  SSL_CTX_set_alpn_select_cb(ctx, onAlpn, self.get());
  SSL_CTX_set_tlsext_servername_callback(ctx, onServerName);
  SSL_CTX_set_tlsext_servername_arg(ctx, self.get());
  if (!errors.empty()) return errors;
  const LoadedCertificate& first = *self->certs_.front();
  if (SSL_CTX_use_cert_and_key(ctx, first.leaf, first.key, first.chain, 1) != 1)
    return FieldErrors{{path + ".certificates[0].certificate_file", sslError()}};
  return std::shared_ptr<const TlsServerContext>(std::move(self));
}

TlsServerContext::~TlsServerContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<TlsTransport> TlsServerContext::accept(Fd fd) const {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsTransport>(std::move(fd), ssl, self_.lock());
}

const LoadedCertificate* TlsServerContext::select(std::string_view name) const {
  std::string key = lower(name);
  auto it = exact_.find(key);
  if (it != exact_.end()) return certs_[it->second].get();
  size_t dot = key.find('.');
  if (dot != std::string::npos) {
    auto w = wildcard_.find(key.substr(dot + 1));
    if (w != wildcard_.end()) return certs_[w->second].get();
  }
  return nullptr;
}

int TlsServerContext::onServerName(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<const TlsServerContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const LoadedCertificate* cert = name ? self->select(name) : nullptr;
  if (cert == nullptr) {
    if (!self->options_.strict_sni) return SSL_TLSEXT_ERR_OK;  // the first certificate
    if (TlsTransport* t = TlsTransport::of(ssl)) t->setFailure(TlsFailure::kUnknownSni);
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (cert != self->certs_.front().get()) {
    // Clear first: the default certificate stays in its key type's slot otherwise, and OpenSSL
    // would serve it whenever it prefers that type (an ECDSA default over an RSA choice).
    SSL_certs_clear(ssl);
    SSL_use_cert_and_key(ssl, cert->leaf, cert->key, cert->chain, 1);
  }
  return SSL_TLSEXT_ERR_OK;
}

int TlsServerContext::onAlpn(SSL*, const unsigned char** out, unsigned char* outlen,
                             const unsigned char* in, unsigned int inlen, void* arg) {
  auto* self = static_cast<const TlsServerContext*>(arg);
  unsigned char* selected = nullptr;
  // The server's order decides: SSL_select_next_proto prefers its first list.
  if (SSL_select_next_proto(&selected, outlen,
                            reinterpret_cast<const unsigned char*>(self->alpn_.data()),
                            unsigned(self->alpn_.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// --- Origination ---------------------------------------------------------------------------

ConfigResult<std::shared_ptr<const TlsClientContext>> TlsClientContext::create(
    const TlsClientOptions& options, const std::string& path, std::vector<std::string> alpn) {
  std::shared_ptr<TlsClientContext> self(new TlsClientContext());
  self->self_ = self;
  self->options_ = options;
  FieldErrors errors;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  self->ctx_ = ctx;
  applyCommon(ctx);
  applyProtocol(ctx, options.protocol, path, errors);
  if (options.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verifyPeer);
    SSL_CTX_set_app_data(ctx, &self->options_.verify_sans);
    if (options.ca_file.empty()) {
      SSL_CTX_set_default_verify_paths(ctx);
    } else {
      loadCas(ctx, options.ca_file, path + ".ca_file", errors, self->cas_);
    }
  }
  const TlsCertificateFiles& cc = options.client_certificate;
  if (!cc.certificate_file.empty() || !cc.key_file.empty()) {
    auto loaded = loadCertificate(cc, path + ".client_certificate");
    if (!loaded) {
      append(errors, loaded.error());
    } else {
      self->cert_ = std::move(loaded.value());
      SSL_CTX_use_cert_and_key(ctx, self->cert_->leaf, self->cert_->key, self->cert_->chain, 1);
      ERR_clear_error();
    }
  }
  if (!alpn.empty()) {
    std::string wire = alpnWire(alpn);
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            unsigned(wire.size()));
  }
  // Sessions go to the pool's slot (onNewSession), never to OpenSSL's internal cache.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  if (!errors.empty()) return errors;
  return std::shared_ptr<const TlsClientContext>(std::move(self));
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<TlsTransport> TlsClientContext::connect(
    Fd fd, std::shared_ptr<TlsSessionSlot> session) const {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_connect_state(ssl);
  const std::string& sni = options_.sni;
  if (!sni.empty()) {
    SSL_set_tlsext_host_name(ssl, sni.c_str());
    if (options_.verify_sans.empty() && !options_.insecure_skip_verify)
      SSL_set1_host(ssl, sni.c_str());
  }
  if (session && session->get()) SSL_set_session(ssl, session->get());
  auto t = std::make_unique<TlsTransport>(std::move(fd), ssl, self_.lock());
  t->setSessionSlot(std::move(session));
  return t;
}

int TlsClientContext::onNewSession(SSL* ssl, SSL_SESSION* session) {
  TlsTransport* t = TlsTransport::of(ssl);
  if (t == nullptr || !t->sessionSlot()) return 0;
  t->sessionSlot()->store(session);
  return 1;  // the slot keeps the reference
}

}  // namespace remora::network
