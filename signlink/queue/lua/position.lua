-- position: ARGV 3.. ticket ids. For each waiting ticket: its rank in its own queue and the number of
-- tickets ahead of it in every queue that shares its agents, each weighted by the share of that
-- queue's online agents who can also serve it (estimator.py turns this into a wait). Read-only.
local overlap_of = {}
local function overlap(me)
  if overlap_of[me] then return overlap_of[me] end
  local out = {}
  for q = 1, NP do
    local other = pair_name_at(q)
    if other ~= me then
      local x = tonumber(redis.call('HGET', K.overlap, me .. '|' .. other)) or 0
      if x > 0 then
        local s = tonumber(redis.call('HGET', K.cap, 'O:' .. other)) or 0
        if s > 0 then out[#out + 1] = {q = q, share = x / s} end
      end
    end
  end
  overlap_of[me] = out
  return out
end

local out = {}
for i = 3, #ARGV do
  local ticket = load(K.tickets, ARGV[i])
  local r = {id = ARGV[i], state = 'missing'}
  if ticket then
    r.state = ticket.state
    if ticket.state == 'waiting' or ticket.state == 'offered' then
      local me = pair_name(ticket.lang, ticket.topic)
      r.serving = tonumber(redis.call('HGET', K.cap, 'S:' .. me)) or 0
      r.ahead = 0
      if ticket.state == 'waiting' then
        local rank = redis.call('ZRANK', WAIT(pair_of(ticket.lang, ticket.topic)), ticket.id)
        r.rank = rank
        local ahead = rank
        for _, o in ipairs(overlap(me)) do
          ahead = ahead + o.share * redis.call('ZCOUNT', WAIT(o.q), '-inf', '(' .. ticket.score)
        end
        r.ahead = ahead
      end
    end
  end
  out[#out + 1] = r
end
local s = redis.call('HMGET', K.stats, 'busy_s', 'accept_s', 'wait_sum', 'aband_sum')
return done({tickets = out, stats = {busy_s = s[1], accept_s = s[2], wait_sum = s[3], aband_sum = s[4]}})
