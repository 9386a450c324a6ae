#include "kv/request.h"

namespace halo::kv {

const char* KvOpName(KvOp op) {
  switch (op) {
    case KvOp::kRead:
      return "read";
    case KvOp::kList:
      return "list";
    case KvOp::kScan:
      return "scan";
    case KvOp::kWrite:
      return "write";
    case KvOp::kPatch:
      return "patch";
    case KvOp::kDelete:
      return "delete";
  }
  return "unknown";
}

bool SecretsEngine::Writes(const KvRequest& req) const {
  return req.op == KvOp::kWrite || req.op == KvOp::kPatch || req.op == KvOp::kDelete;
}

}  // namespace halo::kv
