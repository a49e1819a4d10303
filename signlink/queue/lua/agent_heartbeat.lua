-- agent_heartbeat: ARGV 5 agent id. Keeps an online agent from being logged out by the sweeper.
local agent = load(K_AGENTS, ARGV[5])
if not agent then return fail('not_found', 'no agent ' .. ARGV[5]) end
if agent.status == 'offline' then return fail('closed', 'agent ' .. agent.id .. ' is offline: log in again') end
if agent.status ~= 'in_call' then redis.call('ZADD', K_AGENT_SEEN, NOW, agent.id) end
return done({agent = agent})
