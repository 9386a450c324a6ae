// H2Options: the HTTP/2 limits of one side of a connection (a server connection of either
// daemon, the router's upstream sessions). Plain values; the defaults follow Go's net/http2
// (OpenBao's server) where one exists, and the defences' thresholds are HAProxy's and
// Envoy's orders of magnitude.
#pragma once

#include <cstddef>
#include <cstdint>

namespace halo::http {

struct H2Options {
  // Server: serve HTTP/2 (ALPN h2 on TLS, the connection preface on plaintext).
  bool enabled = true;
  // SETTINGS_MAX_CONCURRENT_STREAMS we announce (Go's default).
  uint32_t max_concurrent_streams = 250;
  // Per-stream receive window: bounds the request (server) or response (client) body bytes
  // one stream buffers while its consumer is paused. The connection window is
  // max_concurrent_streams times this, at most 1 GiB.
  uint32_t initial_window_size = 1 << 20;
  // SETTINGS_MAX_FRAME_SIZE we accept.
  uint32_t max_frame_size = 16384;
  // Decoded header list bytes per stream (name + value + 32 each, RFC 9113 §6.5.2); 0: the
  // HTTP/1.1 parser's max_header_bytes. Past it: 431; far past it (an HPACK bomb): GOAWAY
  // ENHANCE_YOUR_CALM.
  size_t max_header_list_bytes = 0;
  // CONTINUATION frames per header block (CVE-2024-27316): past it, ENHANCE_YOUR_CALM.
  uint32_t max_continuations = 16;
  // Token buckets per connection: stream resets by the client (rapid reset, CVE-2023-44487)
  // and control frames (PING, SETTINGS, PRIORITY, empty DATA). A burst, then a rate per
  // second; past them, GOAWAY ENHANCE_YOUR_CALM.
  uint32_t reset_burst = 200;
  uint32_t resets_per_second = 50;
  uint32_t control_burst = 200;
  uint32_t control_per_second = 50;
};

}  // namespace halo::http
