-- wrk driver for every scenario of bench/run.py.
--
--   wrk -t2 -c32 -d10s --latency -s bench/scenarios/lines.lua URL -- REQUESTS_FILE THREADS
--
-- REQUESTS_FILE has one request per line, four tab-separated fields:
--   METHOD  PATH  TOKEN (or -)  JSON BODY (or -)
-- "%n" in a body becomes a value unique to this thread and request (titles that really
-- change). Each thread takes every THREADS-th line (all lines when there are fewer lines
-- than threads) and goes round robin over them, so two threads never write the same
-- task and consecutive requests go to different users. done() prints the status counts.

local requests = {}
local counter = 0
statuses = {}

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local function parse(line)
  local method, path, token, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
  if not method then
    error("bad request line: " .. line)
  end
  local headers = {}
  if token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
  if body == "-" or body == "" then
    body = nil
  else
    headers["Content-Type"] = "application/json"
  end
  local entry = { method = method, path = path, headers = headers, body = body }
  if body == nil or not body:find("%%n") then
    entry.raw = wrk.format(method, path, headers, body)
  end
  return entry
end

function init(args)
  local file = args[1]
  local nthreads = tonumber(args[2]) or 1
  local all = {}
  for line in io.lines(file) do
    if line ~= "" then
      table.insert(all, line)
    end
  end
  for i, line in ipairs(all) do
    if #all < nthreads or (i - 1) % nthreads == thread_id then
      table.insert(requests, parse(line))
    end
  end
  if #requests == 0 then
    error("no requests for thread " .. tostring(thread_id) .. " in " .. file)
  end
end

function request()
  counter = counter + 1
  local entry = requests[(counter - 1) % #requests + 1]
  if entry.raw then
    return entry.raw
  end
  local body = entry.body:gsub("%%n", thread_id .. "-" .. counter)
  return wrk.format(entry.method, entry.path, entry.headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if counts then
      for status, count in pairs(counts) do
        totals[status] = (totals[status] or 0) + count
      end
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("BENCH-STATUS %d %d\n", status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH-SUMMARY requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.timeout, errors.status))
end
