-- ready: ARGV 3 agent id. From away or wrap-up (or cutting a retry pause short): available, and offered
-- the best eligible ticket at once if there is one.
local agent = load(K.agents, ARGV[3])
if not agent then return fail('not_found', 'no agent ' .. ARGV[3]) end
local st = agent.status
if st == 'offline' then return fail('conflict', 'agent ' .. agent.id .. ' is offline: log in first') end
if st == 'on_offer' then
  return fail('conflict', 'agent ' .. agent.id .. ' has an open offer: accept or decline it', {offer = agent.offer})
end
if st == 'in_call' then return fail('conflict', 'agent ' .. agent.id .. ' is in a call: end it first') end
redis.call('ZADD', K.agent_seen, NOW, agent.id)
local offer
if st == 'available' then
  if agent.retry > 0 then
    stop_retry(agent)
    offer = route_agent(agent)
  end
else
  if st == 'wrap_up' then close_cycle(agent) end
  if st == 'away' then agent.missed = 0 end
  agent.since = NOW
  stop_retry(agent)
  set_status(agent, 'available', 'ready')
  offer = route_agent(agent)
end
save(K.agents, agent)
return done({agent = agent, offer = offer})
