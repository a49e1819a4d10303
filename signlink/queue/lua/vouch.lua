-- vouch: ARGV 3 number of ticket ids n, 4..3+n ticket ids, then agent ids. A process holds these open
-- sockets: each waiting (or offered) ticket and each online agent not in a call is seen now. Never
-- abandons anyone (the socket is open). Returns the ticket ids that are no longer in the queue.
local n = tonumber(ARGV[3])
local gone = {}
for i = 4, 3 + n do
  local ticket = load(K.tickets, ARGV[i])
  if ticket and (ticket.state == 'waiting' or ticket.state == 'offered') then
    redis.call('ZADD', K.ticket_seen, NOW, ticket.id)
  elseif not ticket or ticket.state ~= 'in_call' then
    gone[#gone + 1] = ARGV[i]
  end
end
for i = 4 + n, #ARGV do
  local agent = load(K.agents, ARGV[i])
  if agent and agent.status ~= 'offline' and agent.status ~= 'in_call' then
    redis.call('ZADD', K.agent_seen, NOW, agent.id)
  end
end
return done({gone = gone})
