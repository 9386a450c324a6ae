// TlsOptions: a TLS listener's settings, under the names OpenBao's `listener "tcp"` block
// uses, and ParseTlsListener, which reads them from a listener.tcp config object (both
// daemons). TLS is on when tls_cert_file and tls_key_file are set and tls_disable is not
// true; tls_disable: false without a certificate is an error (OpenBao's default is TLS on;
// halo's is plaintext, so that a config without certificates runs on loopback).
#pragma once

#include <string>

#include "common/json_config.h"
#include "common/status.h"

namespace halo::net {

struct TlsOptions {
  bool enabled = false;
  std::string cert_file;       // PEM, the leaf first, then its chain
  std::string key_file;        // PEM private key matching the leaf
  std::string min_version;     // "tls12" (default) | "tls13"
  std::string cipher_suites;   // OpenSSL cipher list for TLS 1.2 (empty: OpenSSL's default)
  std::string client_ca_file;  // CAs for client certificates (PEM)
  bool require_and_verify_client_cert = false;  // refuse clients without a valid one
  bool offer_h2 = true;  // ALPN may pick h2 (the listener serves HTTP/2; `http2_disable` off)
};

// The client side (the router's `upstream_tls`, a node's forwarding to the active).
struct TlsClientOptions {
  std::string ca_file;    // CAs the server must chain to (PEM); empty: the system's
  std::string cert_file;  // client certificate chain (mutual TLS); empty: none
  std::string key_file;
  std::string server_name;  // SNI and the name checked; empty: the host of the address dialled
  bool insecure_skip_verify = false;  // tests only: no check at all (logged loudly)
};

// Reads http2_disable (HTTP/2 on this listener, TLS or not: TlsOptions::offer_h2), tls_disable,
// tls_cert_file, tls_key_file, tls_min_version, tls_cipher_suites, tls_client_ca_file and
// tls_require_and_verify_client_cert from `tcp` (other keys are left for the caller).
// kInvalidArgument naming the key for a bad value or a missing file name.
Status ParseTlsListener(ConfigObject& tcp, TlsOptions* out);

// Reads a client TLS block (the router's upstream_tls, the node's cluster_tls): ca_file,
// cert_file, key_file, server_name, insecure_skip_verify; unknown keys are errors.
Status ParseTlsClient(ConfigObject& obj, TlsClientOptions* out);

}  // namespace halo::net
