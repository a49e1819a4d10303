-- end_session: ARGV 3 session id, 4 ended by (agent | customer | system), 5 agent id ('' = any).
-- The ticket ends; the agent goes to wrap-up (ready.lua brings them back).
local sid, by, agent_id = ARGV[3], ARGV[4], ARGV[5]
local ticket = load(K.tickets, redis.call('HGET', K.sessions, sid))
if not ticket then return fail('not_found', 'no session ' .. sid) end
if ticket.state ~= 'in_call' or ticket.session ~= sid then
  return fail('closed', 'session ' .. sid .. ' has ended', {ticket = ticket})
end
if agent_id ~= '' and ticket.agent ~= agent_id then
  return fail('forbidden', 'session ' .. sid .. ' is not agent ' .. agent_id .. "'s")
end
local agent = end_call(ticket, by)
finish(ticket, 'ended', by)
return done({ticket = ticket, agent = agent})
