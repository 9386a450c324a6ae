// TlsContext: one loaded TLS configuration (OpenSSL 3 SSL_CTX): certificate chain and key,
// protocol floor, cipher list, client-certificate policy, ALPN. Immutable once made, so
// every connection accepted with it keeps it (shared_ptr) while a reload builds a new one.
//
// Errors from CreateServer: kInvalidArgument naming the file and OpenSSL's reason (missing
// or unreadable file, a key that does not match its certificate, a bad cipher list).
// Threading: SSL_CTX is safe to share between threads for making connections.
#pragma once

#include <memory>
#include <string>

#include "common/net/tls_options.h"
#include "common/net/tls_ticket_keys.h"
#include "common/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace halo::net {

class TlsContext {
 public:
  // `ticket_keys`: the listener's session-ticket keys (nullptr: a new set), so that a reload
  // keeps resuming sessions sealed before it.
  static Result<std::shared_ptr<TlsContext>> CreateServer(
      const TlsOptions& options, std::shared_ptr<TlsTicketKeys> ticket_keys = nullptr);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A client context: verification against options.ca_file (unless insecure_skip_verify),
  // a client certificate if given, ALPN http/1.1. Errors name the file.
  static Result<std::shared_ptr<TlsContext>> CreateClient(const TlsClientOptions& options);

  SSL_CTX* ctx() const { return ctx_; }
  bool verify_peer() const { return verify_peer_; }
  const std::string& server_name() const { return server_name_; }
  const std::shared_ptr<TlsTicketKeys>& ticket_keys() const { return ticket_keys_; }
  // Seconds until the leaf certificate expires (negative once it has), and its notAfter as
  // Unix seconds.
  int64_t seconds_to_expiry() const;
  int64_t not_after_unix() const;

 private:
  TlsContext(SSL_CTX* ctx, std::shared_ptr<TlsTicketKeys> keys)
      : ctx_(ctx), ticket_keys_(std::move(keys)) {}
  SSL_CTX* ctx_;
  std::shared_ptr<TlsTicketKeys> ticket_keys_;
  bool verify_peer_ = false;  // client: check the server's certificate and name
  std::string server_name_;   // client: the name to send and check ("" -> the host dialled)
};

// CreateClient for the config block named `key` (e.g. "upstream_tls"): errors are annotated
// with it, and insecure_skip_verify is logged as a warning (it must never go unnoticed).
Result<std::shared_ptr<TlsContext>> CreateClientForConfig(const TlsClientOptions& options,
                                                          const std::string& key);

// SIGHUP for a TLS listener: builds a new context from `options` (the files are read again)
// and swaps it into `*current`; if that fails, `*current` stays and the error comes back.
// Connections already accepted keep the context they started with.
Status ReloadServerContext(const TlsOptions& options, std::shared_ptr<const TlsContext>* current);

// The last OpenSSL error(s) on this thread as text, and clears them.
std::string OpenSslErrors();

}  // namespace halo::net
