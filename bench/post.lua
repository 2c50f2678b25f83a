-- wrk script of bench/run.py: every request creates a new study.
--
-- The mock answers 409 to a Study Instance UID it has stored already, so each request's UID
-- is unique: 1.2.840.113619.2.55.<thread>.<counter>, with <thread> numbered by setup() (one
-- per wrk thread, from 1) and <counter> counting that thread's requests (from 1). Both have
-- no leading zero, so every UID is a valid DICOM UID. The baseline app ignores the body.
--
-- Given a count (`wrk ... -s post.lua URL -- 100000`), a thread stops once that many of its
-- requests were answered and prints "filled": wrk itself runs on until its -d duration is
-- over, so bench/wrk.py interrupts it then (bench/stored.py fills a mock so).

wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer bench-key"
wrk.headers["Content-Type"] = "application/json"

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local head = '{"severity":"high","studyDescription":"CT Chest","studyInstanceUid":"'
local tail = '","metadata":{"site":"north"}}'
local prefix = nil
local counter = 0
local answered = 0

function init(args)
  prefix = head .. "1.2.840.113619.2.55." .. (thread_number or 1) .. "."
  local limit = tonumber(args[1])
  -- A second count (`-- 100000 20000`) starts the counter past it, to fill on past a fill.
  counter = tonumber(args[2]) or 0
  if limit then
    -- Defined only with a count: wrk reads response bodies only for a script that asks.
    function response(status, headers, body)
      answered = answered + 1
      if answered == limit then
        io.write("filled\n")
        io.flush()
        wrk.thread:stop()
      end
    end
  end
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, prefix .. string.format("%d", counter) .. tail)
end
