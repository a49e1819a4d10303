-- gauge_max: KEYS the bucket hashes; ARGV 1 field, 2 value, 3 expire at (epoch s, one per key after).
-- Keeps the highest value seen in each bucket (e.g. customers waiting at once in that hour).
for i, key in ipairs(KEYS) do
  local old = tonumber(redis.call('HGET', key, ARGV[1]))
  if not old or tonumber(ARGV[2]) > old then redis.call('HSET', key, ARGV[1], ARGV[2]) end
  redis.call('EXPIREAT', key, ARGV[2 + i])
end
return 1
