-- sweep: ARGV 1 stale after (s), 2 grace (s), 3 batch size. Members nobody vouched for lately (their
-- process died) become absent since their last sign; members absent longer than the grace are taken
-- out and returned as expired (the caller ends their call). Each member is claimed by one sweep only.
local limit = tonumber(ARGV[3])
local stale = redis.call('ZRANGEBYSCORE', SEEN, '-inf', '(' .. (NOW - tonumber(ARGV[1])), 'WITHSCORES',
  'LIMIT', 0, limit)
local gone = {}
for i = 1, #stale, 2 do
  redis.call('ZREM', SEEN, stale[i])
  redis.call('ZADD', ABSENT, stale[i + 1], stale[i])
  gone[#gone + 1] = stale[i]
end
local expired = redis.call('ZRANGEBYSCORE', ABSENT, '-inf', '(' .. (NOW - tonumber(ARGV[2])), 'LIMIT', 0, limit)
for _, member in ipairs(expired) do redis.call('ZREM', ABSENT, member) end
return {gone, expired}
