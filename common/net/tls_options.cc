#include "common/net/tls_options.h"

namespace halo::net {

Status ParseTlsListener(ConfigObject& tcp, TlsOptions* out) {
  bool disable = false;
  bool has_disable = tcp.Has("tls_disable");
  RETURN_IF_ERROR(tcp.GetBool("tls_disable", &disable));
  bool http2_disable = false;
  RETURN_IF_ERROR(tcp.GetBool("http2_disable", &http2_disable));
  out->offer_h2 = !http2_disable;
  RETURN_IF_ERROR(tcp.GetString("tls_cert_file", &out->cert_file));
  RETURN_IF_ERROR(tcp.GetString("tls_key_file", &out->key_file));
  RETURN_IF_ERROR(tcp.GetString("tls_min_version", &out->min_version));
  RETURN_IF_ERROR(tcp.GetString("tls_cipher_suites", &out->cipher_suites));
  RETURN_IF_ERROR(tcp.GetString("tls_client_ca_file", &out->client_ca_file));
  RETURN_IF_ERROR(
      tcp.GetBool("tls_require_and_verify_client_cert", &out->require_and_verify_client_cert));
  if (!out->min_version.empty() && out->min_version != "tls12" && out->min_version != "tls13") {
    return Status::InvalidArgument(tcp.KeyPath("tls_min_version") +
                                   ": expected \"tls12\" or \"tls13\", got \"" + out->min_version +
                                   "\"");
  }
  bool has_cert = !out->cert_file.empty() || !out->key_file.empty();
  if (disable) {
    out->enabled = false;
    return Status::Ok();
  }
  if (!has_cert) {
    if (has_disable) {
      return Status::InvalidArgument(
          tcp.KeyPath("tls_disable") +
          ": false, but no tls_cert_file and tls_key_file are set (set both, or "
          "tls_disable: true for plaintext)");
    }
    out->enabled = false;
    return Status::Ok();
  }
  if (out->cert_file.empty()) {
    return Status::InvalidArgument(tcp.KeyPath("tls_cert_file") +
                                   ": missing (tls_key_file is set)");
  }
  if (out->key_file.empty()) {
    return Status::InvalidArgument(tcp.KeyPath("tls_key_file") +
                                   ": missing (tls_cert_file is set)");
  }
  if (out->require_and_verify_client_cert && out->client_ca_file.empty()) {
    return Status::InvalidArgument(tcp.KeyPath("tls_require_and_verify_client_cert") +
                                   ": needs tls_client_ca_file");
  }
  out->enabled = true;
  return Status::Ok();
}

Status ParseTlsClient(ConfigObject& obj, TlsClientOptions* o) {
  RETURN_IF_ERROR(obj.CheckIsObject());
  RETURN_IF_ERROR(obj.GetString("ca_file", &o->ca_file));
  RETURN_IF_ERROR(obj.GetString("cert_file", &o->cert_file));
  RETURN_IF_ERROR(obj.GetString("key_file", &o->key_file));
  RETURN_IF_ERROR(obj.GetString("server_name", &o->server_name));
  RETURN_IF_ERROR(obj.GetBool("insecure_skip_verify", &o->insecure_skip_verify));
  if (o->cert_file.empty() != o->key_file.empty()) {
    return Status::InvalidArgument(obj.KeyPath(o->cert_file.empty() ? "cert_file" : "key_file") +
                                   ": missing (cert_file and key_file go together)");
  }
  if (o->insecure_skip_verify && !o->ca_file.empty()) {
    return Status::InvalidArgument(obj.KeyPath("insecure_skip_verify") +
                                   ": true and a ca_file at once; pick one");
  }
  return obj.Finish();
}

}  // namespace halo::net
