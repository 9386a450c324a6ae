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
};

// Reads tls_disable, tls_cert_file, tls_key_file, tls_min_version, tls_cipher_suites,
// tls_client_ca_file and tls_require_and_verify_client_cert from `tcp` (other keys are left
// for the caller). kInvalidArgument naming the key for a bad value or a missing file name.
Status ParseTlsListener(ConfigObject& tcp, TlsOptions* out);

}  // namespace halo::net
