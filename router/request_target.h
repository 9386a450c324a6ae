// Request-target normalisation for classification.
//
// NormalizeTarget() takes the request-target of an HTTP/1 request line ("/v1/a//b/../c?x=1",
// or absolute-form "http://host/v1/...") and produces the path the node will act on: percent
// decoded, "//" merged, "." and ".." resolved, trailing slash kept (it matters for LIST).
// A target that cannot be normalised safely is refused (the router answers 400): not
// origin- or absolute-form, a fragment, a bad or control-character escape (%00, %0a, %zz),
// raw control characters or spaces, or ".." above the root. The query is not decoded, only
// checked for control characters; `list` is set when it carries list=true (OpenBao's
// ?list=true is a LIST). The original target is what gets forwarded; the normalised path is
// only used to decide where. Pure and allocation-free once `out->path` has capacity.
#pragma once

#include <string>
#include <string_view>

namespace halo::router {

struct NormalizedTarget {
  std::string path;        // starts with '/'
  std::string_view query;  // raw, without '?'; points into the target given
  bool list = false;       // query has list=true (1, t, T, true, TRUE, True)
};

// Returns false when the target must be refused with 400. `out->query` refers to `target`.
bool NormalizeTarget(std::string_view target, NormalizedTarget* out);

// The API path rules match: the normalised path without its "/v1/" prefix ("sys/health"), or
// without the leading '/' for paths outside /v1/.
std::string_view ApiPath(std::string_view normalized_path);

// Whether a boolean query value means true, as OpenBao's parseutil.ParseBool does.
bool QueryBoolTrue(std::string_view value);

}  // namespace halo::router
