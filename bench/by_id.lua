-- wrk script of bench/run.py: retrieve or update studies that exist, picked at random.
--
-- `wrk ... -s by_id.lua URL -- GET|PATCH IDS_FILE`: IDS_FILE holds one study id a line (bench
-- collects them from the mock's list endpoint). Each request names one of them, drawn at
-- random with a fixed seed per thread, so the store is read all over, not in one corner.
-- An update sets severity and description, alternating between two values so that every
-- update changes the study. The baseline app answers the same paths without looking.

wrk.headers["Authorization"] = "Bearer bench-key"

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local ids = {}
local method = "GET"
local bodies = {
  '{"severity":"stat","studyDescription":"CT Chest, read first"}',
  '{"severity":"normal","studyDescription":"CT Chest"}',
}
local counter = 0

function init(args)
  method = args[1] or "GET"
  for line in io.lines(args[2]) do
    if #line > 0 then
      ids[#ids + 1] = "/v1/viewer/studies/" .. line
    end
  end
  if #ids == 0 then
    error("no study ids in " .. tostring(args[2]))
  end
  if method == "PATCH" then
    wrk.headers["Content-Type"] = "application/json"
  end
  math.randomseed(1000 + (thread_number or 1))
end

function request()
  local path = ids[math.random(#ids)]
  if method == "PATCH" then
    counter = counter + 1
    return wrk.format("PATCH", path, nil, bodies[counter % 2 + 1])
  end
  return wrk.format("GET", path)
end
