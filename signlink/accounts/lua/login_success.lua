-- A correct password: forget this username's attempts from this address, and give the address and the
-- username's overall count their attempt back.
-- KEYS[1] username from this address, KEYS[2] this address, KEYS[3] username from everywhere
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 1
