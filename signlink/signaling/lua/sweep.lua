-- sweep: ARGV 1 stale after (s), 2 grace (s), 3 batch size, 4 outage gap (s, '' = none). Members
-- nobody vouched for lately (their process died) become absent since their last sign; members absent longer than the grace are taken
-- out and returned as expired (the caller ends their call). Each member is claimed by one sweep only.
local limit = tonumber(ARGV[3])
-- No sweep for longer than the gap: Redis was away or stopped and no process could vouch. Grace and
-- staleness then run from now (a floor), not from the last write: an outage drops nobody by itself.
local gap = tonumber(ARGV[4] or '')
if gap then
  local last = tonumber(redis.call('HGET', SWEEP, 'swept_at'))
  redis.call('HSET', SWEEP, 'swept_at', string.format('%.17g', NOW))
  if last and NOW - last > gap then redis.call('HSET', SWEEP, 'floor', string.format('%.17g', NOW)) end
end
local floor = tonumber(redis.call('HGET', SWEEP, 'floor')) or 0
local stale = {}
if NOW - floor >= tonumber(ARGV[1]) then
  stale = redis.call('ZRANGEBYSCORE', SEEN, '-inf', '(' .. (NOW - tonumber(ARGV[1])), 'WITHSCORES',
    'LIMIT', 0, limit)
end
local gone = {}
for i = 1, #stale, 2 do
  redis.call('ZREM', SEEN, stale[i])
  redis.call('ZADD', ABSENT, math.max(tonumber(stale[i + 1]), floor), stale[i])
  gone[#gone + 1] = stale[i]
end
local expired = {}
if NOW - floor >= tonumber(ARGV[2]) then
  expired = redis.call('ZRANGEBYSCORE', ABSENT, '-inf', '(' .. (NOW - tonumber(ARGV[2])), 'LIMIT', 0, limit)
end
for _, member in ipairs(expired) do redis.call('ZREM', ABSENT, member) end
return {gone, expired}
