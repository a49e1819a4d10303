-- Count a login attempt against each of its counters (fixed windows), before the password is checked,
-- so parallel guesses cannot slip past the limit.
-- KEYS[1] attempts for this username from this address, KEYS[2] attempts from this address,
-- KEYS[3] attempts for this username from everywhere (a much higher limit: one address can never
-- lock a named agent out everywhere). ARGV[1] window in seconds, ARGV[1 + i] the limit of KEYS[i].
-- Returns 0 when the attempt may go ahead, else the seconds until it may be retried.
local window = tonumber(ARGV[1])
local retry = 0
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[i], window)
    ttl = window
  end
  if n > tonumber(ARGV[1 + i]) and ttl > retry then
    retry = ttl
  end
end
return retry
