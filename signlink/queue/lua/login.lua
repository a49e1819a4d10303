-- login: ARGV 3 agent id, 4 name, 5 languages csv, 6 topics csv, 7 '1' to be ready at once.
-- New or offline agents come online (away, or available when ready); an online agent logging in again
-- (a reconnect) keeps their status; changed skills take effect at once.
local id, name, langs, topics = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local agent = load(K.agents, id)
if not agent then
  agent = {id = id, name = name, langs = langs, topics = topics, status = 'offline', since = 0, missed = 0,
    offer = '', ticket = '', session = '', retry = 0, busy_from = 0}
  redis.call('HINCRBY', K.agent_counts, 'offline', 1)
end
agent.name = name
if agent.langs ~= langs or agent.topics ~= topics then
  local on = ONLINE[agent.status] and 1 or 0
  local sv = SERVING[agent.status] and 1 or 0
  local idle = agent.status == 'available' and agent.retry == 0
  cap_change(agent, -on, -sv)
  if idle then idle_remove(agent) end
  agent.langs, agent.topics = langs, topics
  cap_change(agent, on, sv)
  if idle then idle_add(agent) end
end
local offer
if agent.status == 'offline' then
  agent.missed = 0
  if ARGV[7] == '1' then
    agent.since = NOW
    set_status(agent, 'available', 'login')
    offer = route_agent(agent)
  else
    set_status(agent, 'away', 'login')
  end
end
if agent.status ~= 'in_call' then redis.call('ZADD', K.agent_seen, NOW, agent.id) end
save(K.agents, agent)
return done({agent = agent, offer = offer})
