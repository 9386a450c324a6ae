#include "common/net/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/logging.h"

namespace halo::net {
namespace {

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kAlpnH2Http11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Server-side ALPN: h2 when the client offers it and the listener serves HTTP/2 (`arg`
// non-null), else http/1.1 when offered; no ALPN otherwise (an HTTP/1.1 client that offers
// nothing still works).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  unsigned char* selected = nullptr;
  const unsigned char* ours = arg != nullptr ? kAlpnH2Http11 : kAlpnHttp11;
  unsigned int ours_len = arg != nullptr ? sizeof(kAlpnH2Http11) : sizeof(kAlpnHttp11);
  if (SSL_select_next_proto(&selected, outlen, ours, ours_len, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Session tickets sealed with the listener's rotating keys (common/net/tls_ticket_keys.h):
// 1 = use this key, 2 = accepted but sealed by an older key (issue a new ticket), 0 = unknown
// key (full handshake), -1 = failure.
int TicketKeyCallback(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int enc) {
  auto* keys = static_cast<TlsTicketKeys*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  TlsTicketKeys::Key k;
  int result = 1;
  if (enc) {
    if (!keys->Current(&k)) return -1;
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    std::memcpy(key_name, k.name.data(), k.name.size());
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
  } else {
    TlsTicketKeys::Match m = keys->Find(key_name, &k);
    if (m == TlsTicketKeys::Match::kNone) return 0;
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, k.aes.data(), iv) != 1) return -1;
    result = m == TlsTicketKeys::Match::kCurrent ? 1 : 2;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac.data(), k.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  return result;
}

Status Fail(SSL_CTX* ctx, const std::string& what) {
  SSL_CTX_free(ctx);
  return Status::InvalidArgument(what + ": " + OpenSslErrors());
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::shared_ptr<TlsContext>> TlsContext::CreateServer(
    const TlsOptions& o, std::shared_ptr<TlsTicketKeys> ticket_keys) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslErrors());
  int floor = o.min_version == "tls13" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, floor);
  // No renegotiation (a DoS lever and never needed by HTTP/1.1 clients); the server picks.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
    return Fail(ctx, "tls_cert_file " + o.cert_file);
  }
  // The key is read on its own first, so that an unreadable file and a key of another
  // certificate get different messages.
  EVP_PKEY* key = nullptr;
  if (FILE* f = std::fopen(o.key_file.c_str(), "r")) {
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
  } else {
    SSL_CTX_free(ctx);
    return Status::InvalidArgument("tls_key_file " + o.key_file + ": " + std::strerror(errno));
  }
  if (key == nullptr) return Fail(ctx, "tls_key_file " + o.key_file + " (no PEM private key)");
  ERR_clear_error();
  int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return Fail(ctx, "tls_key_file " + o.key_file + " does not match tls_cert_file " + o.cert_file);
  }
  if (!o.cipher_suites.empty() && SSL_CTX_set_cipher_list(ctx, o.cipher_suites.c_str()) != 1) {
    return Fail(ctx, "tls_cipher_suites \"" + o.cipher_suites + "\"");
  }
  if (!o.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.client_ca_file.c_str(), nullptr) != 1) {
      return Fail(ctx, "tls_client_ca_file " + o.client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (o.require_and_verify_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  static int h2_marker = 0;
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, o.offer_h2 ? &h2_marker : nullptr);
  // Session resumption: stateless tickets under the listener's rotating keys, and a
  // server-side cache for TLS 1.2 clients that resume by session id.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  static const unsigned char kSidCtx[] = "halo";
  SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof(kSidCtx) - 1);
  if (ticket_keys == nullptr) ticket_keys = std::make_shared<TlsTicketKeys>();
  SSL_CTX_set_app_data(ctx, ticket_keys.get());
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, TicketKeyCallback);
  return std::shared_ptr<TlsContext>(new TlsContext(ctx, std::move(ticket_keys)));
}

Result<std::shared_ptr<TlsContext>> CreateClientForConfig(const TlsClientOptions& options,
                                                          const std::string& key) {
  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::CreateClient(options);
  if (!ctx.ok()) return ctx.status().Annotate(key);
  if (options.insecure_skip_verify) {
    LOG_WARN(
        "%s.insecure_skip_verify is true: the peers' certificates are NOT checked (anyone "
        "on the path can impersonate them); for tests only",
        key.c_str());
  }
  return ctx;
}

Status ReloadServerContext(const TlsOptions& options, std::shared_ptr<const TlsContext>* current) {
  Result<std::shared_ptr<TlsContext>> next =
      TlsContext::CreateServer(options, *current ? (*current)->ticket_keys() : nullptr);
  if (!next.ok()) return next.status();
  *current = std::move(next).value();
  return Status::Ok();
}

Result<std::shared_ptr<TlsContext>> TlsContext::CreateClient(const TlsClientOptions& o) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (!o.insecure_skip_verify) {
    int ok = o.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                               : SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr);
    if (ok != 1) return Fail(ctx, "ca_file " + o.ca_file);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) {
      SSL_CTX_free(ctx);
      return Status::InvalidArgument("cert_file and key_file go together");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
      return Fail(ctx, "cert_file " + o.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return Fail(ctx, "key_file " + o.key_file + " (or it does not match cert_file)");
    }
  }
  SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof(kAlpnHttp11));
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  auto out = std::shared_ptr<TlsContext>(new TlsContext(ctx, nullptr));
  out->verify_peer_ = !o.insecure_skip_verify;
  out->server_name_ = o.server_name;
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

int64_t TlsContext::not_after_unix() const {
  return static_cast<int64_t>(std::time(nullptr)) + seconds_to_expiry();
}

int64_t TlsContext::seconds_to_expiry() const {
  X509* leaf = SSL_CTX_get0_certificate(ctx_);
  if (leaf == nullptr) return 0;
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(leaf)) != 1) return 0;
  return int64_t{days} * 86400 + secs;
}

}  // namespace halo::net
