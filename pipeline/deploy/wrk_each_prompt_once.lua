-- wrk script for `make bench` (pipeline/deploy/benchmark.py wrk_throughput): POSTs every line of the
-- file $WRK_BODIES (one JSON body per line) exactly once over wrk's keep-alive connections, with
-- the bearer token $WRK_TOKEN. When the last body is answered it writes
--   {"requests": N, "errors": E, "seconds": S}
-- to $WRK_RESULT (S: first request sent -> last body answered) and the caller stops wrk.
-- Connections that would otherwise send a body twice (a cache hit) send GET /ping instead, so
-- the run ends as a thread pool's does: the last bodies drain while the rest of the load is idle.
-- Ping answers ({"status": ...}) are told apart from prediction and error bodies, which have no "status".
-- Run it with one wrk thread (-t1): the counters live in that thread.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1

local function now()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, t)
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) * 1e-9
end

local headers = { ["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN"), ["Content-Type"] = "application/json" }
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do
  if line ~= "" then bodies[#bodies + 1] = wrk.format("POST", nil, headers, line) end
end
local ping = wrk.format("GET", "/ping", { ["Authorization"] = headers["Authorization"] })
local sent, answered, errors, first = 0, 0, 0, nil
local verified = false

function request()
  -- wrk calls request() once before connecting, to check the script (script_verify_request)
  if not verified then
    verified = true
    return ping
  end
  if sent == #bodies then return ping end
  sent = sent + 1
  first = first or now()
  return bodies[sent]
end

function response(status, _, body)
  if answered == #bodies or body:find('"status"', 1, true) then return end
  answered = answered + 1
  if status ~= 200 then errors = errors + 1 end
  if answered == #bodies then
    local path = os.getenv("WRK_RESULT")
    local out = assert(io.open(path .. ".tmp", "w"))
    out:write(string.format('{"requests": %d, "errors": %d, "seconds": %.6f}\n', answered, errors, now() - first))
    out:close()
    os.rename(path .. ".tmp", path)
  end
end
