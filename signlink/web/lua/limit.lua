-- Count one request against fixed-window counters (one per KEYS entry, all with the same window).
-- KEYS[i] a counter (per address, global); ARGV[1] window in seconds, ARGV[1 + i] the limit of KEYS[i]
-- (0 = no limit). Counts only when every counter has room, so refused requests use up nothing.
-- Returns 0 when the request may go ahead, else the seconds until it may be retried.
local window = tonumber(ARGV[1])
local retry = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + i])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = 1 end
    if ttl > retry then retry = ttl end
  end
end
if retry > 0 then return retry end
for i = 1, #KEYS do
  if tonumber(ARGV[1 + i]) > 0 then
    local n = redis.call('INCR', KEYS[i])
    if n == 1 or redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIRE', KEYS[i], window) end
  end
end
return 0
