-- wrk script for the benchmarks (bench/harness.py passes the thread count first):
-- POST /tickets/book (walk-in or appointment), GET /tickets/{id} over many tickets, and
-- staff call-next over many counters, counting the response statuses.
--
--   wrk -t2 -c32 -d10s -H "Authorization: Bearer KEY" -s bench/booking.lua URL -- THREADS MODE ...
--
-- MODE walk-in SERVICE GROUP
-- MODE appointment SERVICE GROUP FIRST_SLOT_EPOCH SLOT_SECONDS SLOTS CUSTOMER_PREFIX
--      [OFFSET [CUSTOMERS]]
--      (request n books slot (OFFSET + n) % SLOTS for customer
--      CUSTOMER_PREFIX..((OFFSET + n) % CUSTOMERS): one booking per customer, spread over
--      many slots so capacity is never the limit; a later run passes OFFSET + the
--      "highest" n this one printed + 1: the threads' counts differ, so the number of
--      requests is not where the numbers stopped)
-- MODE ticket IDS_FILE (one ticket id a line; request n fetches line n % count)
-- MODE call-next COUNTERS_FILE (a line: counter id, space, the staff token holding it;
--      request n calls the next ticket at counter n % count with its holder's token,
--      URL being the staff API's base; answers with "data":null, nobody waiting, are
--      counted as empty=)

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  stride = tonumber(args[1]) -- wrk -tN: thread i sends numbers i, i + N, i + 2N, …
  mode = args[2]
  statuses = {}
  samples = {} -- status -> the first answer's body, for every refused status
  empty = 0
  counter = index
  if mode == "walk-in" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = string.format('{"serviceId":"%s","groupOfServiceId":"%s"}', args[3], args[4])
  elseif mode == "appointment" then
    wrk.headers["Content-Type"] = "application/json"
    service, group = args[3], args[4]
    first, step, slots, prefix = tonumber(args[5]), tonumber(args[6]), tonumber(args[7]), args[8]
    offset = tonumber(args[9] or "0")
    customers = tonumber(args[10] or "1000000000")
  elseif mode == "ticket" then
    ids = {}
    for line in io.lines(args[3]) do
      table.insert(ids, line)
    end
  elseif mode == "call-next" then
    counters, tokens = {}, {}
    for line in io.lines(args[3]) do
      local id, token = line:match("^(%S+) (%S+)$")
      table.insert(counters, id)
      table.insert(tokens, { ["Authorization"] = "Bearer " .. token })
    end
  end
end

function request()
  counter = counter + stride
  sent = counter -- a global, so done() can read it (counter is this file's local)
  if mode == "appointment" then
    local n = offset + counter
    local time = os.date("!%Y-%m-%dT%H:%M:%SZ", first + (n % slots) * step)
    local body = string.format(
      '{"serviceId":"%s","groupOfServiceId":"%s","time":"%s","customerExternalId":"%s%d"}',
      service, group, time, prefix, n % customers)
    return wrk.format("POST", nil, nil, body) -- nil headers: wrk.headers, with the key
  elseif mode == "ticket" then
    return wrk.format("GET", wrk.path .. ids[(counter % #ids) + 1])
  elseif mode == "call-next" then
    local i = (counter % #counters) + 1
    return wrk.format("POST", wrk.path .. "/counters/" .. counters[i] .. "/call-next", tokens[i])
  end
  return wrk.request()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 and samples[status] == nil then
    samples[status] = (body or ""):sub(1, 200):gsub("\n", " ")
  end
  if mode == "call-next" and body and body:find('"data":null', 1, true) then
    empty = empty + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  local empties = 0
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      total[status] = (total[status] or 0) + count
    end
    empties = empties + (thread:get("empty") or 0)
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format("%d=%d", status, count))
  end
  table.sort(parts)
  if threads[1]:get("mode") == "call-next" then -- done() runs outside the threads
    table.insert(parts, string.format("empty=%d", empties))
  end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  -- The highest request number sent (each thread counts on its own, by the stride):
  -- where a later appointment run must start so no customer books twice.
  local highest = 0
  for _, thread in ipairs(threads) do
    highest = math.max(highest, thread:get("sent") or 0)
  end
  io.write(string.format("highest %d\n", highest))
  local shown = {}
  for _, thread in ipairs(threads) do
    for status, body in pairs(thread:get("samples")) do
      if not shown[status] then
        shown[status] = true
        io.write(string.format("sample %d %s\n", status, body))
      end
    end
  end
end
