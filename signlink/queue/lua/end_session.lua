-- end_session: ARGV 5 session id, 6 ended by (agent | customer | system), 7 agent id ('' = any).
-- The ticket ends; the agent goes to wrap-up (ready.lua brings them back).
local sid, by, agent_id = ARGV[5], ARGV[6], ARGV[7]
local ticket = load(K_TICKETS, redis.call('HGET', K_SESSIONS, sid))
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
