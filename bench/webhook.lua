-- wrk script for bench/webhook.py: every request is a distinct, validly signed delivery.
--
-- wrk's Lua has no HMAC, so the bench signs the deliveries in Python beforehand and writes one a line:
-- "<X-Helpdesk-Signature>\t<Idempotency-Key>\t<JSON body>".  Arguments after "--": that file, the key id,
-- and wrk's thread count.  Thread i sends lines i, i + n, i + 2n, ... in order, each once; when its
-- share runs out it starts over (a replay: answered 200, not 201) and counts the wrap so the bench can
-- refuse the run.  Statuses are counted per thread and printed by done() as one JSON line.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, key_id, count = args[1], args[2], tonumber(args[3])
  reqs = {}
  local i = 0
  for line in io.lines(path) do
    if i % count == id then
      local signature, key, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["Content-Type"] = "application/json",
        ["X-Helpdesk-Key-Id"] = key_id,
        ["X-Helpdesk-Signature"] = signature,
        ["Idempotency-Key"] = key,
      }
      table.insert(reqs, wrk.format("POST", nil, headers, body))
    end
    i = i + 1
  end
  sent = 0
  wrapped = 0
  statuses = {}
end

function request()
  sent = sent + 1
  if sent > #reqs then
    sent = 1
    wrapped = wrapped + 1
  end
  return reqs[sent]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  local wraps = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    wraps = wraps + thread:get("wrapped")
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "wrapped": %d, '
      .. '"socket_errors": %d, "timeouts": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), wraps,
    e.connect + e.read + e.write, e.timeout, table.concat(parts, ", ")
  ))
end
