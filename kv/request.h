// SecretsEngine: one mounted secrets engine (KV v1 or KV v2), independent of any transport.
//
// The node's HTTP layer turns an OpenBao-style request (/v1/<mount>/<path>) into a KvRequest
// and sends the engine's http::Response back as it is: status, Cache-Control: no-store, and a
// JSON body (Content-Type: application/json) when there is one. Bodies, status codes and messages
// follow OpenBao's KV engines (builtin/logical/kv), including the success envelope
//   {"request_id":..,"lease_id":"","renewable":false,"lease_duration":0,"data":..,
//    "wrap_info":null,"warnings":null,"auth":null}
// and error bodies {"errors":[..]}.
//
// What the HTTP layer does before calling Handle (as OpenBao's internal/http/logical.go):
//   GET -> kRead, or kList with ?list=true (the "list" parameter removed); LIST -> kList;
//   SCAN or ?scan=true -> kScan; POST/PUT -> kWrite; PATCH -> kPatch; DELETE -> kDelete;
//   other methods are answered 405 by the node. The request's query string, parsed once by
//   the node (without "list" and "scan"), goes into `query`; for kRead/kList/kScan/kDelete they are
//   the request's parameters, for kWrite/kPatch the JSON body is. The engine itself checks PATCH's
//   Content-Type (415) and parses the body (400 "error parsing JSON").
//
// Whether a request writes is decided here and only here: Writes(). The node asks it to
// choose between answering locally and sending the request to the active node.
//
// Threading: Handle() may be called from any thread, concurrently. Reads (Writes() false)
// call `done` before Handle returns, on the caller's thread, after synchronous Backend
// reads. Writes never block: they run through Backend::UpdateAsync and `done` runs later on
// a backend thread; the caller marshals it back to its event loop. A write refused before
// it reaches storage (bad JSON, a failed parameter check, 405, 415) is answered at once on
// the caller's thread, like a read. `done` runs exactly once in every case.
//
// Fencing: every write carries the caller's fencing epoch. A write refused by the backend
// because the epoch is stale is never applied and comes back as NotActive() (kv/json.h: 503,
// recognised by IsNotActive()), so the node never acknowledges it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/message.h"
#include "common/http/url.h"

namespace halo::kv {

enum class KvOp {
  kRead,    // GET
  kList,    // LIST, GET ?list=true
  kScan,    // SCAN, GET ?scan=true (recursive list; OpenBao only)
  kWrite,   // POST, PUT (OpenBao's create/update)
  kPatch,   // PATCH (needs Content-Type application/merge-patch+json)
  kDelete,  // DELETE
};

// "read", "list", ... for logs.
const char* KvOpName(KvOp op);

struct KvRequest {
  KvOp op = KvOp::kRead;
  // The path below the mount, without a leading '/': "data/foo/bar", "metadata/dir/",
  // "config". For kList/kScan a missing trailing '/' is added by the engine.
  std::string path;
  // Decoded query parameters in order; a name given twice becomes a list of strings.
  http::QueryParams query;
  std::string body;          // raw request body (kWrite, kPatch); may be empty
  std::string content_type;  // the Content-Type header, as sent (checked for kPatch)
  uint64_t epoch = 0;        // the writer's fencing epoch (writes only)
};

// The message in the 503 body of a write refused for a stale fencing epoch.
inline constexpr std::string_view kNotActiveMessage = "node is not active";

class SecretsEngine {
 public:
  using DoneFn = std::function<void(http::Response)>;

  virtual ~SecretsEngine() = default;
  SecretsEngine(const SecretsEngine&) = delete;
  SecretsEngine& operator=(const SecretsEngine&) = delete;

  // "kv" with version "1" or "2" (OpenBao's mount type and options.version).
  virtual std::string_view Type() const = 0;
  virtual int Version() const = 0;

  // True when Handle would write (kWrite, kPatch, kDelete): such requests belong on the
  // active node and need its current fencing epoch in `epoch`.
  virtual bool Writes(const KvRequest& req) const;

  // Answers `req` through `done` (see the threading notes above).
  virtual void Handle(const KvRequest& req, DoneFn done) = 0;

 protected:
  SecretsEngine() = default;
};

}  // namespace halo::kv
