-- refresh: ARGV members this process holds sockets for. Each is vouched for now. Returns those a
-- sweep had taken for gone (this process was too slow to vouch): the caller tells their peers.
local revived = {}
for _, member in ipairs(ARGV) do
  if redis.call('ZSCORE', SEEN, member) then
    redis.call('ZADD', SEEN, NOW, member)
  elseif redis.call('ZREM', ABSENT, member) == 1 then
    redis.call('ZADD', SEEN, NOW, member)
    revived[#revived + 1] = member
  end
end
return revived
