-- Count a login attempt against the username and the client address (fixed windows).
-- Counting before the password is checked means parallel guesses cannot slip past the limit.
-- KEYS[1] attempts for this username, KEYS[2] attempts from this address
-- ARGV[1] window in seconds, ARGV[2] limit per username, ARGV[3] limit per address
-- Returns 0 when the attempt may go ahead, else the seconds until it may be retried.
local window = tonumber(ARGV[1])
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
local retry = 0
for i = 1, 2 do
  local n = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[i], window)
    ttl = window
  end
  if n > limits[i] and ttl > retry then
    retry = ttl
  end
end
return retry
