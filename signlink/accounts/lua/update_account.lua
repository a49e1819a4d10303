-- Change fields of an existing account; never creates one.
-- KEYS[1] the account hash
-- ARGV field, value, field, value, ...
-- Returns 1 when updated, 0 when there is no such account.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
