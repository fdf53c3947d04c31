-- wrk script for benchmarks/webhook_bench.py: each wrk thread sends its own file of
-- pre-signed LINE webhooks ("signature<TAB>body" per line), every body exactly once
-- (each carries its own webhookEventId), then idles; done() prints every latency sample.
-- "Connection: close": a new connection per request, as the Python client did (and no
-- keep-alive races); wrk times each request from writing it to reading its response.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  reqs, sent, got, bad, armed = {}, 0, 0, 0, 0
  for line in io.lines(args[1] .. "." .. id) do
    local sig, body = line:match("^(%S+)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", "/callback",
      {["Content-Type"] = "application/json", ["X-Line-Signature"] = sig, ["Connection"] = "close"}, body)
  end
end

-- With delay() defined, wrk asks delay() before every real send (then calls request()
-- for that connection); a request() call with no delay() before it is wrk checking the
-- script on thread 0, and must not use up a body.
function delay()
  if sent + armed >= #reqs then return 3600000 end  -- all taken: this connection waits out the run
  armed = armed + 1
  return 0
end

function request()
  if armed == 0 then return reqs[1] end
  armed = armed - 1
  sent = sent + 1
  return reqs[sent]
end

function response(status, headers, body)
  got = got + 1
  if status ~= 200 then bad = bad + 1 end
  if got >= #reqs then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local got_all, bad_all = 0, 0
  for _, t in ipairs(threads) do
    got_all = got_all + t:get("got")
    bad_all = bad_all + t:get("bad")
  end
  io.write(string.format("responses %d non200 %d errors %d\n", got_all, bad_all,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for i = 1, #latency do
    local us, count = latency(i)
    io.write(string.format("latency_us %d %d\n", us, count))
  end
end
