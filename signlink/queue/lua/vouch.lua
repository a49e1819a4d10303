-- vouch: ARGV 5 number of ticket ids n, 6..5+n ticket ids, then agent ids. A process holds these open
-- sockets: each waiting (or offered) ticket and each online agent not in a call is seen now. Never
-- abandons anyone (the socket is open). Returns the ticket ids that are no longer in the queue.
local n = tonumber(ARGV[5])
local gone = {}
for i = 6, 5 + n do
  local ticket = load(K_TICKETS, ARGV[i])
  if ticket and (ticket.state == 'waiting' or ticket.state == 'offered') then
    redis.call('ZADD', K_TICKET_SEEN, NOW, ticket.id)
  elseif not ticket or ticket.state ~= 'in_call' then
    gone[#gone + 1] = ARGV[i]
  end
end
for i = 6 + n, #ARGV do
  local agent = load(K_AGENTS, ARGV[i])
  if agent and agent.status ~= 'offline' and agent.status ~= 'in_call' then
    redis.call('ZADD', K_AGENT_SEEN, NOW, agent.id)
  end
end
return done({gone = gone})
