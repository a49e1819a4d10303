-- drop: ARGV 1 member. The party's socket closed: absent from now (the grace period runs).
-- 1 if it was present (the caller tells the peer), 0 if someone else already did.
if redis.call('ZREM', SEEN, ARGV[1]) == 1 then
  redis.call('ZADD', ABSENT, NOW, ARGV[1])
  return 1
end
return 0
