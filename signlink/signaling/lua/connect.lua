-- connect: ARGV 1 member. The party's socket is (back) here. Returns what it was before:
-- 'present', 'absent' or 'none' (not part of a live call as far as presence knows).
local before = 'none'
if redis.call('ZSCORE', SEEN, ARGV[1]) then
  before = 'present'
elseif redis.call('ZREM', ABSENT, ARGV[1]) == 1 then
  before = 'absent'
end
redis.call('ZADD', SEEN, NOW, ARGV[1])
return before
