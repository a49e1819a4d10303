-- start: ARGV 1 the agent's member, 2 the customer's member, 3 '1' if the customer is connected.
-- The call begins: the agent is here; the customer is here or already counted as gone (grace runs).
redis.call('ZREM', ABSENT, ARGV[1])
redis.call('ZADD', SEEN, NOW, ARGV[1])
if ARGV[3] == '1' then
  redis.call('ZREM', ABSENT, ARGV[2])
  redis.call('ZADD', SEEN, NOW, ARGV[2])
else
  redis.call('ZREM', SEEN, ARGV[2])
  redis.call('ZADD', ABSENT, 'NX', NOW, ARGV[2])
end
return 1
