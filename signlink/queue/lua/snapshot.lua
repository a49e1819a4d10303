-- snapshot: per skill queue, waiting and offered tickets, the longest wait, agents online and serving;
-- agents per status. Read-only.
local lines = {}
for p = 1, NP do
  local name = pair_name_at(p)
  local waiting = redis.call('ZCARD', WAIT(p))
  local all = redis.call('ZCARD', AGE(p))
  local head = redis.call('ZRANGE', AGE(p), 0, 0, 'WITHSCORES')
  lines[#lines + 1] = {pair = name, waiting = waiting, offered = all - waiting,
    longest = head[2] and math.max(0, NOW - tonumber(head[2])) or 0,
    online = tonumber(redis.call('HGET', K.cap, 'O:' .. name)) or 0,
    serving = tonumber(redis.call('HGET', K.cap, 'S:' .. name)) or 0}
end
local counts = redis.call('HGETALL', K.agent_counts)
local agents = {}
for i = 1, #counts, 2 do agents[counts[i]] = tonumber(counts[i + 1]) end
local totals = redis.call('HMGET', K.stats, 'joined_total', 'served_total', 'abandoned_total')
return done({lines = lines, agents = agents,
  totals = {joined = tonumber(totals[1]) or 0, served = tonumber(totals[2]) or 0,
    abandoned = tonumber(totals[3]) or 0}})
