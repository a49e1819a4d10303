-- A correct password: forget the username's attempts and give the address its attempt back.
-- KEYS[1] attempts for this username, KEYS[2] attempts from this address
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
  redis.call('DECR', KEYS[2])
end
return 1
