-- away: ARGV 3 agent id, 4 'offline' to log out instead. An open offer goes back to the queue (no miss:
-- the agent chose to stop); an agent in a call must end it first.
local agent = load(K.agents, ARGV[3])
if not agent then return fail('not_found', 'no agent ' .. ARGV[3]) end
local to = ARGV[4] == 'offline' and 'offline' or 'away'
if agent.status == 'in_call' then
  return fail('conflict', 'agent ' .. agent.id .. ' is in a call: end it first')
end
if agent.status == 'offline' and to == 'away' then
  return fail('conflict', 'agent ' .. agent.id .. ' is offline: log in first')
end
if agent.status ~= to then leave_work(agent, to, to == 'offline' and 'logout' or 'away') end
return done({agent = agent})
