-- wrk script: KV v2 reads of one secret (GET /v1/secret/data/bench/read), with the root
-- token from $HALO_TOKEN (default halo-dev-root). scripts/bench-node writes the secret first.
--   wrk -t2 -c64 -d10s --latency -s bench/node_get.lua http://127.0.0.1:8210
function init(args)
  token = os.getenv("HALO_TOKEN") or "halo-dev-root"
  req = wrk.format("GET", "/v1/secret/data/bench/read", {["X-Vault-Token"] = token})
end

function request()
  return req
end
