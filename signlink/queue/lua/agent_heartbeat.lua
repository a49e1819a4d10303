-- agent_heartbeat: ARGV 3 agent id. Keeps an online agent from being logged out by the sweeper.
local agent = load(K.agents, ARGV[3])
if not agent then return fail('not_found', 'no agent ' .. ARGV[3]) end
if agent.status == 'offline' then return fail('closed', 'agent ' .. agent.id .. ' is offline: log in again') end
if agent.status ~= 'in_call' then redis.call('ZADD', K.agent_seen, NOW, agent.id) end
return done({agent = agent})
