-- wrk script: durable KV v2 writes (PUT /v1/secret/data/bench/<thread>-<n>), each to a new
-- key, with the root token from $HALO_TOKEN (default halo-dev-root). Used by
-- scripts/bench-node; by hand:
--   wrk -t2 -c64 -d10s --latency -s bench/node_put.lua http://127.0.0.1:8210
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  token = os.getenv("HALO_TOKEN") or "halo-dev-root"
  headers = {["X-Vault-Token"] = token, ["Content-Type"] = "application/json"}
end

function request()
  counter = counter + 1
  local path = "/v1/secret/data/bench/" .. tid .. "-" .. counter
  local body = '{"data":{"value":"' .. counter .. '","pad":"0123456789abcdef"}}'
  return wrk.format("PUT", path, headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    errors = (errors or 0) + 1
  end
end
