-- append_sample: KEYS[1] a session's packed quality samples; ARGV 1 one packed sample, 2 the most
-- bytes kept, 3 time to live (s). Appends unless the session is full. Returns the new length, or -1
-- when full (the sample is dropped: the first hours of a call are what QA reads).
local size = redis.call('STRLEN', KEYS[1])
if size + string.len(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
local n = redis.call('APPEND', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return n
