#include "router/router_config.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/json_config.h"

namespace halo::router {
namespace {

// GetObject for an optional block: absent -> empty optional, wrong type -> error.
Status OptionalObject(ConfigObject* parent, std::string_view key,
                      std::optional<ConfigObject>* out) {
  out->reset();
  if (!parent->Has(key)) {
    parent->MarkKnown(key);
    return Status::Ok();
  }
  Result<ConfigObject> obj = parent->GetObject(key);
  if (!obj.ok()) return obj.status();
  out->emplace(std::move(obj).value());
  return Status::Ok();
}

Status GetIntAs(ConfigObject* obj, std::string_view key, int* out, int64_t min, int64_t max) {
  int64_t v = *out;
  RETURN_IF_ERROR(obj->GetInt(key, &v, min, max));
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status GetPositiveMs(ConfigObject* obj, std::string_view key, int64_t* out) {
  RETURN_IF_ERROR(obj->GetDurationMs(key, out));
  if (*out <= 0) return Status::InvalidArgument(obj->KeyPath(key) + ": must be positive");
  return Status::Ok();
}

bool ValidMethodToken(const std::string& m) {
  if (m.empty() || m.size() > 32) return false;
  return std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// One {"tcp": {...}} block.
Status ParseOneListener(ConfigObject& listener, ListenerConfig* out) {
  RETURN_IF_ERROR(listener.CheckIsObject());
  std::optional<ConfigObject> tcp;
  RETURN_IF_ERROR(OptionalObject(&listener, "tcp", &tcp));
  RETURN_IF_ERROR(listener.Finish());
  if (!tcp) return Status::Ok();
  std::string address;
  RETURN_IF_ERROR(tcp->GetString("address", &address));
  if (!address.empty() && !SplitHostPort(address, &out->host, &out->port)) {
    return Status::InvalidArgument(tcp->KeyPath("address") + ": expected \"host:port\"");
  }
  RETURN_IF_ERROR(net::ParseTlsListener(*tcp, &out->tls));
  return tcp->Finish();
}

// `listener`: one block, or a list of them (OpenBao allows several listener stanzas).
Status ParseListener(ConfigObject* top, RouterConfig* cfg) {
  if (!top->Has("listener")) {
    top->MarkKnown("listener");
    return Status::Ok();
  }
  top->MarkKnown("listener");
  const rapidjson::Value& raw = top->raw()["listener"];
  cfg->listeners.clear();
  if (!raw.IsArray()) {
    ConfigObject one(raw, "listener");
    cfg->listeners.emplace_back();
    return ParseOneListener(one, &cfg->listeners.back());
  }
  if (raw.Empty())
    return Status::InvalidArgument("listener: an empty list (omit it for the default)");
  std::set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < raw.Size(); ++i) {
    std::string path = "listener[" + std::to_string(i) + "]";
    ConfigObject one(raw[i], path);
    cfg->listeners.emplace_back();
    RETURN_IF_ERROR(ParseOneListener(one, &cfg->listeners.back()));
    if (!seen.insert(cfg->listeners.back().address()).second) {
      return Status::InvalidArgument(path + ".tcp.address: " + cfg->listeners.back().address() +
                                     " is used by an earlier listener");
    }
  }
  return Status::Ok();
}

Status ParseUpstreamTls(ConfigObject* top, RouterConfig* cfg) {
  std::optional<ConfigObject> tls;
  RETURN_IF_ERROR(OptionalObject(top, "upstream_tls", &tls));
  if (!tls) return Status::Ok();
  cfg->upstream_tls_enabled = true;
  return net::ParseTlsClient(*tls, &cfg->upstream_tls);
}

Status ParseAdmin(ConfigObject* top, RouterConfig* cfg) {
  std::optional<ConfigObject> admin;
  RETURN_IF_ERROR(OptionalObject(top, "admin", &admin));
  if (!admin) return Status::Ok();
  std::string address;
  RETURN_IF_ERROR(admin->GetString("address", &address));
  if (!address.empty() && !SplitHostPort(address, &cfg->admin_host, &cfg->admin_port)) {
    return Status::InvalidArgument(admin->KeyPath("address") + ": expected \"host:port\"");
  }
  RETURN_IF_ERROR(admin->GetString("token", &cfg->admin_token));
  if (admin->Has("token") && cfg->admin_token.empty()) {
    return Status::InvalidArgument(admin->KeyPath("token") + ": empty (omit it for no token)");
  }
  return admin->Finish();
}

Status ParseAccessLog(ConfigObject* top, RouterConfig* cfg) {
  std::optional<ConfigObject> log;
  RETURN_IF_ERROR(OptionalObject(top, "access_log", &log));
  if (!log) return Status::Ok();
  AccessLogConfig& a = cfg->access_log;
  a.enabled = true;  // a block turns it on unless it says "enabled": false
  RETURN_IF_ERROR(log->GetBool("enabled", &a.enabled));
  RETURN_IF_ERROR(log->GetString("path", &a.path));
  if (a.path.empty()) {
    return Status::InvalidArgument(log->KeyPath("path") +
                                   ": empty (a file, \"stdout\" or \"stderr\")");
  }
  RETURN_IF_ERROR(log->GetInt("buffer_bytes", &a.buffer_bytes, 4096, int64_t{1} << 30));
  RETURN_IF_ERROR(GetPositiveMs(&*log, "flush_interval", &a.flush_interval_ms));
  if (a.flush_interval_ms > 60000) {
    return Status::InvalidArgument(log->KeyPath("flush_interval") + ": at most 60s");
  }
  return log->Finish();
}

Status ParseNodes(ConfigObject* top, RouterConfig* cfg) {
  top->MarkKnown("nodes");
  if (!top->Has("nodes"))
    return Status::InvalidArgument("nodes: missing (list the cluster's nodes)");
  const rapidjson::Value& arr = top->raw()["nodes"];
  if (!arr.IsArray() || arr.Empty()) {
    return Status::InvalidArgument("nodes: expected a non-empty array of objects");
  }
  if (arr.Size() > 32) return Status::InvalidArgument("nodes: at most 32 nodes");
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    ConfigObject node(arr[i], "nodes[" + std::to_string(i) + "]");
    RETURN_IF_ERROR(node.CheckIsObject());
    NodeConfig n;
    RETURN_IF_ERROR(node.GetString("name", &n.name));
    RETURN_IF_ERROR(node.GetString("address", &n.address));
    RETURN_IF_ERROR(node.Finish());
    if (n.address.empty() || !SplitHostPort(n.address, &n.host, &n.port)) {
      return Status::InvalidArgument(node.KeyPath("address") + ": expected \"host:port\"");
    }
    if (n.name.empty()) n.name = n.address;
    for (char c : n.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
          c != ':' && c != '[' && c != ']') {
        return Status::InvalidArgument(node.KeyPath("name") + ": use letters, digits and -_.:[]");
      }
    }
    if (!names.insert(n.name).second) {
      return Status::InvalidArgument(node.KeyPath("name") + ": duplicate node name " + n.name);
    }
    cfg->nodes.push_back(std::move(n));
  }
  return Status::Ok();
}

Status ParseHealth(ConfigObject* top, RouterConfig* cfg) {
  std::optional<ConfigObject> h;
  RETURN_IF_ERROR(OptionalObject(top, "health_check", &h));
  if (!h) return Status::Ok();
  HealthCheckConfig& hc = cfg->health;
  RETURN_IF_ERROR(GetPositiveMs(&*h, "interval", &hc.interval_ms));
  RETURN_IF_ERROR(GetPositiveMs(&*h, "timeout", &hc.timeout_ms));
  RETURN_IF_ERROR(GetIntAs(&*h, "rise", &hc.rise, 1, 100));
  RETURN_IF_ERROR(GetIntAs(&*h, "fall", &hc.fall, 1, 100));
  RETURN_IF_ERROR(h->GetBool("leader_watch", &hc.leader_watch));
  RETURN_IF_ERROR(GetPositiveMs(&*h, "leader_wait", &hc.leader_wait_ms));
  return h->Finish();
}

Status ParseLimits(ConfigObject* top, RouterConfig* cfg) {
  std::optional<ConfigObject> l;
  RETURN_IF_ERROR(OptionalObject(top, "limits", &l));
  if (!l) return Status::Ok();
  LimitsConfig& lc = cfg->limits;
  RETURN_IF_ERROR(l->GetInt("max_header_bytes", &lc.max_header_bytes, 1024, 1 << 20));
  RETURN_IF_ERROR(l->GetInt("max_headers", &lc.max_headers, 8, 10000));
  RETURN_IF_ERROR(l->GetInt("max_body_bytes", &lc.max_body_bytes, 0, int64_t{1} << 40));
  RETURN_IF_ERROR(
      l->GetInt("max_response_header_bytes", &lc.max_response_header_bytes, 1024, 1 << 24));
  RETURN_IF_ERROR(l->GetInt("max_connections", &lc.max_connections, 1, 1000000));
  RETURN_IF_ERROR(
      l->GetInt("max_connections_per_client", &lc.max_connections_per_client, 0, 1000000));
  RETURN_IF_ERROR(l->GetInt("max_blocking_queries", &lc.max_blocking_queries, 0, 1000000));
  RETURN_IF_ERROR(GetPositiveMs(&*l, "header_timeout", &lc.header_timeout_ms));
  RETURN_IF_ERROR(GetPositiveMs(&*l, "idle_timeout", &lc.idle_timeout_ms));
  RETURN_IF_ERROR(GetPositiveMs(&*l, "upstream_connect_timeout", &lc.upstream_connect_timeout_ms));
  RETURN_IF_ERROR(GetPositiveMs(&*l, "upstream_timeout", &lc.upstream_timeout_ms));
  RETURN_IF_ERROR(l->GetInt("upstream_idle_per_node", &lc.upstream_idle_per_node, 0, 100000));
  RETURN_IF_ERROR(l->GetInt("retry_buffer_bytes", &lc.retry_buffer_bytes, 0, 64 << 20));
  RETURN_IF_ERROR(
      l->GetInt("max_body_bytes_in_flight", &lc.max_body_bytes_in_flight, 1, int64_t{1} << 40));
  if (lc.max_body_bytes_in_flight < lc.max_body_bytes) {
    // A body of the allowed size could never be admitted.
    return Status::InvalidArgument(l->KeyPath("max_body_bytes_in_flight") +
                                   ": must be at least limits.max_body_bytes (" +
                                   std::to_string(lc.max_body_bytes) + ")");
  }
  return l->Finish();
}

Status ParseRules(ConfigObject* top, RouterConfig* cfg) {
  top->MarkKnown("rules");
  if (!top->Has("rules")) return Status::Ok();
  const rapidjson::Value& arr = top->raw()["rules"];
  if (!arr.IsArray()) return Status::InvalidArgument("rules: expected an array of objects");
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    ConfigObject r(arr[i], "rules[" + std::to_string(i) + "]");
    RETURN_IF_ERROR(r.CheckIsObject());
    RuleConfig rule;
    std::string cls, mode;
    RETURN_IF_ERROR(r.GetString("path", &rule.path));
    RETURN_IF_ERROR(r.GetStringList("methods", &rule.methods));
    RETURN_IF_ERROR(r.GetString("class", &cls));
    RETURN_IF_ERROR(r.GetString("mode", &mode));
    r.MarkKnown("comment");
    RETURN_IF_ERROR(r.Finish());
    if (rule.path.empty()) return Status::InvalidArgument(r.KeyPath("path") + ": missing");
    if (rule.path[0] == '/') {
      return Status::InvalidArgument(r.KeyPath("path") +
                                     ": write the API path without the leading /v1/ "
                                     "(e.g. \"sys/*\")");
    }
    for (std::string& m : rule.methods) {
      std::transform(m.begin(), m.end(), m.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (!ValidMethodToken(m)) {
        return Status::InvalidArgument(r.KeyPath("methods") + ": bad method \"" + m + "\"");
      }
    }
    if (!cls.empty()) {
      rule.cls = ParseRequestClass(cls);
      if (!rule.cls)
        return Status::InvalidArgument(r.KeyPath("class") + ": expected read or write");
    }
    if (!mode.empty()) {
      rule.mode = ParseWriteMode(mode);
      if (!rule.mode) {
        return Status::InvalidArgument(r.KeyPath("mode") + ": expected forward, redirect or auto");
      }
    }
    if (!rule.cls && !rule.mode) {
      return Status::InvalidArgument(r.KeyPath("class") + ": a rule needs a class or a mode");
    }
    cfg->rules.push_back(std::move(rule));
  }
  return Status::Ok();
}

}  // namespace

bool SplitHostPort(std::string_view address, std::string* host, uint16_t* port) {
  std::string_view h, p;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return false;
    }
    h = address.substr(1, close - 1);
    p = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = address.substr(0, colon);
    p = address.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  uint32_t n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n == 0 || n > 65535) return false;
  host->assign(h);
  *port = static_cast<uint16_t>(n);
  return true;
}

std::string ListenerConfig::address() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<RouterConfig> ParseRouterConfig(std::string_view json, std::string_view what) {
  ASSIGN_OR_RETURN(rapidjson::Document doc, ParseJson(json, what));
  ConfigObject top(doc, "");
  RETURN_IF_ERROR(top.CheckIsObject());
  RouterConfig cfg;
  RETURN_IF_ERROR(ParseListener(&top, &cfg));
  RETURN_IF_ERROR(ParseAdmin(&top, &cfg));
  RETURN_IF_ERROR(ParseAccessLog(&top, &cfg));
  RETURN_IF_ERROR(ParseUpstreamTls(&top, &cfg));
  RETURN_IF_ERROR(GetIntAs(&top, "workers", &cfg.workers, 1, 64));
  std::string protocol;
  RETURN_IF_ERROR(top.GetString("upstream_protocol", &protocol));
  if (!protocol.empty() && protocol != "h2" && protocol != "http1") {
    return Status::InvalidArgument("upstream_protocol: expected \"h2\" or \"http1\", got \"" +
                                   protocol + "\"");
  }
  cfg.upstream_h2 = protocol != "http1";
  RETURN_IF_ERROR(GetIntAs(&top, "upstream_h2_connections", &cfg.upstream_h2_connections, 1, 64));
  RETURN_IF_ERROR(top.GetString("log_level", &cfg.log_level));
  RETURN_IF_ERROR(ParseNodes(&top, &cfg));
  RETURN_IF_ERROR(ParseHealth(&top, &cfg));
  std::string reads, mode;
  RETURN_IF_ERROR(top.GetString("reads", &reads));
  if (!reads.empty()) {
    std::optional<ReadPolicy> p = ParseReadPolicy(reads);
    if (!p) return Status::InvalidArgument("reads: expected standbys, active or any");
    cfg.reads = *p;
  }
  RETURN_IF_ERROR(top.GetString("mode", &mode));
  if (!mode.empty()) {
    std::optional<WriteMode> m = ParseWriteMode(mode);
    if (!m) return Status::InvalidArgument("mode: expected forward, redirect or auto");
    cfg.mode = *m;
  }
  RETURN_IF_ERROR(top.GetDurationMs("failover_hold_ms", &cfg.failover_hold_ms));
  RETURN_IF_ERROR(top.GetInt("retry_after_s", &cfg.retry_after_s, 0, 3600));
  RETURN_IF_ERROR(top.GetDurationMs("drain_timeout", &cfg.drain_timeout_ms));
  RETURN_IF_ERROR(top.GetDurationMs("shutdown_grace", &cfg.shutdown_grace_ms));
  RETURN_IF_ERROR(GetPositiveMs(&top, "dns_refresh", &cfg.dns_refresh_ms));
  RETURN_IF_ERROR(top.GetStringList("dns_servers", &cfg.dns_servers));
  RETURN_IF_ERROR(ParseLimits(&top, &cfg));
  RETURN_IF_ERROR(ParseRules(&top, &cfg));
  top.MarkKnown("comment");
  RETURN_IF_ERROR(top.Finish());
  if (cfg.health.timeout_ms > cfg.health.interval_ms * 10) {
    return Status::InvalidArgument("health_check.timeout: at most 10x the interval");
  }
  return cfg;
}

Result<RouterConfig> LoadRouterConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseRouterConfig(text, path);
}

}  // namespace halo::router
