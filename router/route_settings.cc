#include "router/route_settings.h"

namespace halo::router {

RouteSettings::RouteSettings(const RouterConfig& cfg, uint64_t gen)
    : generation(gen),
      classifier(cfg.rules, cfg.mode),
      reads(cfg.reads),
      mode(cfg.mode),
      failover_hold_ms(cfg.failover_hold_ms),
      retry_after_s(cfg.retry_after_s),
      limits(cfg.limits),
      listen_address(cfg.listen_host + ":" + std::to_string(cfg.listen_port)),
      workers(cfg.workers) {
  request_parser.max_header_bytes = static_cast<size_t>(cfg.limits.max_header_bytes);
  request_parser.max_header_count = static_cast<size_t>(cfg.limits.max_headers);
  request_parser.max_body_bytes = static_cast<uint64_t>(cfg.limits.max_body_bytes);
  response_parser.max_header_bytes = static_cast<size_t>(cfg.limits.max_response_header_bytes);
  response_parser.max_header_count = 1000;
  response_parser.max_body_bytes = uint64_t{1} << 40;  // streamed, not buffered
  response_parser.require_host = false;
}

}  // namespace halo::router
