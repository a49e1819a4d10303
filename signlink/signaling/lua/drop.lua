-- drop: ARGV 1 member, 2 the closing socket's generation; KEYS[4] the party's generation counter
-- (signaling/hub.py). The party's socket closed: absent from now (the grace period runs), unless a
-- newer socket of the party has claimed it meanwhile (a takeover, perhaps on another process: that
-- one holds the call, so nobody is told anything). 1 if it was present (the caller tells the peer),
-- 0 if someone else already did or a newer socket holds it.
if KEYS[4] and tonumber(redis.call('GET', KEYS[4]) or '0') > tonumber(ARGV[2]) then return 0 end
if redis.call('ZREM', SEEN, ARGV[1]) == 1 then
  redis.call('ZADD', ABSENT, NOW, ARGV[1])
  return 1
end
return 0
