-- login: ARGV 5 agent id, 6 name, 7 languages csv, 8 topics csv, 9 '1' to be ready at once.
-- New or offline agents come online (away, or available when ready); an online agent logging in again
-- (a reconnect) keeps their status; changed skills take effect at once.
local id, name, langs, topics = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local agent = load(K_AGENTS, id)
if not agent then
  agent = {id = id, name = name, langs = langs, topics = topics, status = 'offline', since = 0, missed = 0,
    offer = '', ticket = '', session = '', retry = 0, busy_from = 0}
  redis.call('HINCRBY', K_AGENT_COUNTS, 'offline', 1)
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
  if ARGV[9] == '1' then
    agent.since = NOW
    set_status(agent, 'available', 'login')
    offer = route_agent(agent)
  else
    set_status(agent, 'away', 'login')
  end
end
if agent.status ~= 'in_call' then redis.call('ZADD', K_AGENT_SEEN, NOW, agent.id) end
save(K_AGENTS, agent)
return done({agent = agent, offer = offer})
