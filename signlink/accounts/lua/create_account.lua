-- Create an account unless the username is taken.
-- KEYS[1] the account hash, KEYS[2] the set of all usernames
-- ARGV[1] username, ARGV[2..] field, value, field, value, ...
-- Returns 1 when created, 0 when the username exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
