-- sweep: ARGV 3 batch size. Whatever is due, whoever made it: offers past their deadline expire,
-- customers silent past the grace are abandoned, silent agents are logged out, agents whose retry
-- pause is over are routed, finished tickets past their keep time are purged.
local limit = tonumber(ARGV[3])
local res = {expired_offers = 0, abandoned = 0, agents_logged_out = 0, retried_agents = 0, purged = 0,
  more = false}
local function due(key, max, exclusive)
  local ids = redis.call('ZRANGEBYSCORE', key, '-inf', (exclusive and '(' or '') .. string.format('%.17g', max),
    'LIMIT', 0, limit)
  if #ids == limit then res.more = true end
  return ids
end

for _, id in ipairs(due(K.offer_due, NOW, false)) do
  local offer = load(K.offers, id)
  if offer then missed(offer, 'expired') else redis.call('ZREM', K.offer_due, id) end
  res.expired_offers = res.expired_offers + 1
end

for _, id in ipairs(due(K.ticket_seen, NOW - GRACE, true)) do
  local ticket = load(K.tickets, id)
  if ticket and (ticket.state == 'waiting' or ticket.state == 'offered') then
    abandon(ticket, 'timeout')
    res.abandoned = res.abandoned + 1
  else
    redis.call('ZREM', K.ticket_seen, id)
  end
end

for _, id in ipairs(due(K.agent_seen, NOW - GRACE, true)) do
  local agent = load(K.agents, id)
  if agent and agent.status ~= 'offline' and agent.status ~= 'in_call' then
    leave_work(agent, 'offline', 'heartbeat')
    res.agents_logged_out = res.agents_logged_out + 1
  else
    redis.call('ZREM', K.agent_seen, id)
  end
end

for _, id in ipairs(due(K.retry, NOW, false)) do
  redis.call('ZREM', K.retry, id)
  local agent = load(K.agents, id)
  if agent and agent.status == 'available' and agent.retry > 0 then
    agent.retry = 0
    route_agent(agent)
    res.retried_agents = res.retried_agents + 1
  end
end

for _, id in ipairs(due(K.done, NOW - KEEP, true)) do
  local ticket = load(K.tickets, id)
  redis.call('ZREM', K.done, id)
  if ticket and (ticket.state == 'ended' or ticket.state == 'abandoned') then
    redis.call('HDEL', K.tickets, id)
    if redis.call('HGET', K.tokens, ticket.tkh) == id then redis.call('HDEL', K.tokens, ticket.tkh) end
    if ticket.session ~= '' then redis.call('HDEL', K.sessions, ticket.session) end
    for _, sid in ipairs(split(ticket.past)) do redis.call('HDEL', K.sessions, sid) end
    res.purged = res.purged + 1
  end
end
return done(res)
