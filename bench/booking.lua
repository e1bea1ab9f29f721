-- wrk script for bench/booking.py: POST /tickets/book (walk-in or appointment) and
-- GET /tickets/{id} over many tickets, counting the response statuses.
--
--   wrk -t2 -c32 -d10s -H "Authorization: Bearer KEY" -s bench/booking.lua URL -- MODE ...
--
-- MODE walk-in SERVICE GROUP
-- MODE appointment SERVICE GROUP FIRST_SLOT_EPOCH SLOT_SECONDS SLOTS CUSTOMER_PREFIX
--      (request n books slot n % SLOTS for customer CUSTOMER_PREFIX..n: one booking per
--      customer, spread over many slots so capacity is never the limit)
-- MODE ticket IDS_FILE (one ticket id a line; request n fetches line n % count)

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  statuses = {}
  stride = 2 -- wrk -t2: thread i sends numbers i, i + 2, i + 4, …
  counter = index
  if mode == "walk-in" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = string.format('{"serviceId":"%s","groupOfServiceId":"%s"}', args[2], args[3])
  elseif mode == "appointment" then
    wrk.headers["Content-Type"] = "application/json"
    service, group = args[2], args[3]
    first, step, slots, prefix = tonumber(args[4]), tonumber(args[5]), tonumber(args[6]), args[7]
  elseif mode == "ticket" then
    ids = {}
    for line in io.lines(args[2]) do
      table.insert(ids, line)
    end
  end
end

function request()
  counter = counter + stride
  if mode == "appointment" then
    local time = os.date("!%Y-%m-%dT%H:%M:%SZ", first + (counter % slots) * step)
    local body = string.format(
      '{"serviceId":"%s","groupOfServiceId":"%s","time":"%s","customerExternalId":"%s%d"}',
      service, group, time, prefix, counter)
    return wrk.format("POST", nil, nil, body) -- nil headers: wrk.headers, with the key
  elseif mode == "ticket" then
    return wrk.format("GET", wrk.path .. ids[(counter % #ids) + 1])
  end
  return wrk.request()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format("%d=%d", status, count))
  end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
