// HttpTestClient: a simple BLOCKING HTTP/1.1 client over a raw loopback socket, for tests.
// Send any bytes (valid or not), read one response at a time (parsed by http::ResponseParser,
// so pipelined responses stay separate), and check whether the server closed the
// connection, always with a deadline (poll), never a sleep. Not thread-safe; use one per
// thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "common/http/message.h"
#include "common/result.h"

namespace halo::http {
class ResponseParser;
}

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;

namespace halo::testing {

// TLS for HttpTestClient::UseTls (OpenSSL, blocking with deadlines).
struct TlsClientConfig {
  std::string ca_file;    // verify the server against it; empty: no verification
  std::string cert_file;  // client certificate (PEM chain); empty: none
  std::string key_file;
  std::string server_name = "localhost";  // SNI and the name verified
  bool tls12_only = false;                // cap at TLS 1.2 (renegotiation tests)
};

class HttpTestClient {
 public:
  using Ms = std::chrono::milliseconds;

  explicit HttpTestClient(int port, std::string host = "127.0.0.1");
  ~HttpTestClient();
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  // Every later Connect runs a TLS handshake; bytes sent and read are then plaintext inside
  // TLS. Connect fails with kUnavailable naming OpenSSL's reason when the handshake does.
  Status UseTls(const TlsClientConfig& config);
  // The server's leaf certificate on the current TLS connection: "subject|serial" ("" none).
  std::string PeerCertificate() const;
  // The current TLS connection resumed the session of the previous one (UseTls offers the
  // last connection's session on every Connect).
  bool SessionReused() const;
  // TLS 1.2 only: asks for a renegotiation and drives it; the server's refusal comes back as
  // an error (or the connection closes).
  Status Renegotiate(Ms timeout = Ms(3000));

  // Opens a new connection (closing the current one). kUnavailable if refused/timed out.
  Status Connect(Ms timeout = Ms(5000));
  bool connected() const { return fd_ >= 0; }
  void Close();
  // shutdown(SHUT_WR): the server sees EOF after what was sent.
  void ShutdownWrite();

  // Sends raw bytes on the current connection (connecting first if there is none).
  Status SendRaw(std::string_view bytes);
  // Reads the next response. `request_method` "HEAD" means no body. Bytes after it stay
  // buffered for the next call. kTimeout at the deadline; kUnavailable if the server closed
  // before a complete response; kInvalidArgument if the response did not parse.
  Result<http::Response> ReadResponse(Ms timeout = Ms(5000),
                                      std::string_view request_method = "GET");
  // Waits until the server closes the connection (EOF or reset): true, or false at the
  // deadline. Bytes that arrive meanwhile are kept for ReadResponse.
  bool WaitForClose(Ms timeout = Ms(5000));
  // Reads until the received, not yet parsed bytes contain `needle` (true) or the deadline
  // passes or the server closes (false). The bytes stay for ReadResponse.
  bool WaitForBytes(std::string_view needle, Ms timeout = Ms(5000));
  // Received bytes not yet consumed by ReadResponse.
  const std::string& buffered() const { return buffer_; }
  // True once EOF or a reset has been seen on this connection.
  bool server_closed() const { return closed_; }

  // One request on the kept-alive connection (reconnecting first if there is none, the
  // server closed it, or the last response said the connection ends). Adds Host and Content-Length.
  // `path` is the request-target.
  Result<http::Response> Request(std::string_view method, std::string_view path,
                                 const http::Headers& headers = {}, std::string_view body = {},
                                 Ms timeout = Ms(5000));
  Result<http::Response> Get(std::string_view path, const http::Headers& headers = {});
  Result<http::Response> Put(std::string_view path, std::string_view body,
                             const http::Headers& headers = {});
  Result<http::Response> Post(std::string_view path, std::string_view body,
                              const http::Headers& headers = {});
  Result<http::Response> Delete(std::string_view path, const http::Headers& headers = {});

  // How many TCP connections this client has opened so far.
  int connections_opened() const { return connections_opened_; }

 private:
  // Reads more bytes into buffer_ until the deadline: >0 bytes read, 0 EOF/reset, -1 timeout.
  int ReadSome(std::chrono::steady_clock::time_point deadline);
  Status Handshake(Ms timeout);

  const int port_;
  const std::string host_;
  int fd_ = -1;
  bool closed_ = false;
  bool reusable_ = true;  // false after a response that ends the connection
  std::string buffer_;    // received, not yet parsed
  std::unique_ptr<http::ResponseParser> parser_;
  int connections_opened_ = 0;
  SSL_CTX* tls_ctx_ = nullptr;      // UseTls
  SSL* ssl_ = nullptr;              // the current connection's TLS, if any
  SSL_SESSION* session_ = nullptr;  // the last connection's, offered on the next
  std::string server_name_;
};

}  // namespace halo::testing
