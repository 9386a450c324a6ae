#include "common/net/tls_session.h"

#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/net/tls_context.h"

namespace halo::net {
namespace {

constexpr size_t kPlainChunk = 16384;

}  // namespace

std::unique_ptr<TlsSession> TlsSession::Server(SSL_CTX* ctx) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);  // an empty read BIO means "wait", not EOF
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsSession>(new TlsSession(ssl));
}

std::unique_ptr<TlsSession> TlsSession::Client(SSL_CTX* ctx, const std::string& server_name,
                                               bool verify, bool offer_h2) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  if (offer_h2) {
    static constexpr unsigned char kH2Http11[] = {2,   'h', '2', 8,   'h', 't',
                                                  't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl, kH2Http11, sizeof(kH2Http11));
  }
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_connect_state(ssl);
  if (!server_name.empty()) {
    // SNI only for names (RFC 6066 forbids literal addresses); the check takes either.
    bool literal = server_name.find_first_not_of("0123456789.:[]") == std::string::npos;
    if (!literal) SSL_set_tlsext_host_name(ssl, server_name.c_str());
    if (verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (literal) {
        X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str());
      } else {
        SSL_set1_host(ssl, server_name.c_str());
      }
    }
  }
  return std::unique_ptr<TlsSession>(new TlsSession(ssl));
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

Status TlsSession::Drive() {
  if (handshake_done()) return Status::Ok();
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return Status::Ok();
  int err = SSL_get_error(ssl_, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok();
  std::string why = OpenSslErrors();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    why = std::string("certificate does not verify: ") + X509_verify_cert_error_string(verify) +
          " (" + why + ")";
  }
  return Status::IoError("TLS handshake: " + why);
}

Status TlsSession::Receive(const char* data, size_t n, evbuffer* plain, bool* eof) {
  *eof = false;
  if (n > 0 && BIO_write(SSL_get_rbio(ssl_), data, static_cast<int>(n)) != static_cast<int>(n)) {
    return Status::Internal("TLS: cannot buffer input");
  }
  RETURN_IF_ERROR(Drive());
  if (!handshake_done()) return Status::Ok();
  for (;;) {
    evbuffer_iovec vec;
    if (evbuffer_reserve_space(plain, kPlainChunk, &vec, 1) < 1) {
      return Status::Internal("TLS: out of memory");
    }
    ERR_clear_error();
    int r = SSL_read(ssl_, vec.iov_base, static_cast<int>(vec.iov_len));
    if (r > 0) {
      vec.iov_len = static_cast<size_t>(r);
      evbuffer_commit_space(plain, &vec, 1);
      continue;
    }
    evbuffer_commit_space(plain, &vec, 0);
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok();
    if (err == SSL_ERROR_ZERO_RETURN) {
      *eof = true;
      return Status::Ok();
    }
    return Status::IoError("TLS: " + OpenSslErrors());
  }
}

Status TlsSession::Send(evbuffer* plain) {
  if (!handshake_done()) return Status::Ok();
  while (evbuffer_get_length(plain) > 0) {
    evbuffer_iovec vec;
    if (evbuffer_peek(plain, -1, nullptr, &vec, 1) < 1) break;
    ERR_clear_error();
    int r = SSL_write(ssl_, vec.iov_base, static_cast<int>(vec.iov_len));
    if (r <= 0) return Status::IoError("TLS write: " + OpenSslErrors());
    evbuffer_drain(plain, static_cast<size_t>(r));
  }
  return Status::Ok();
}

void TlsSession::Shutdown() {
  if (handshake_done()) SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsSession::TakeWire(evbuffer* wire) {
  BIO* w = SSL_get_wbio(ssl_);
  char* p = nullptr;
  long len = BIO_get_mem_data(w, &p);
  if (len <= 0) return false;
  evbuffer_add(wire, p, static_cast<size_t>(len));
  (void)BIO_reset(w);
  return true;
}

std::string TlsSession::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p ? std::string(reinterpret_cast<const char*>(p), len) : std::string();
}

std::string TlsSession::version() const { return SSL_get_version(ssl_); }

}  // namespace halo::net
