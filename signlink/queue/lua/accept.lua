-- accept: ARGV 3 agent id, 4 offer id. Opens a session: ticket in_call, agent in_call.
-- Someone else's offer: forbidden, nothing changes. Past its deadline: expired now (as the sweeper
-- would), and refused.
local agent_id, offer_id = ARGV[3], ARGV[4]
local offer = load(K.offers, offer_id)
if not offer then return offer_gone(offer_id) end
if offer.agent ~= agent_id then return fail('forbidden', 'offer ' .. offer_id .. ' is not for agent ' .. agent_id) end
if NOW >= offer.deadline then
  missed(offer, 'expired')
  return fail('expired', 'offer ' .. offer_id .. ' expired before it was accepted')
end
close_offer(offer)
local ticket = load(K.tickets, offer.ticket)
local agent = load(K.agents, offer.agent)
local sid = string.format('s%012d', redis.call('HINCRBY', K.seq, 'session', 1))
out_of_queue(ticket)
local waited = NOW - ticket.joined
ticket.state, ticket.session, ticket.accepted, ticket.offer = 'in_call', sid, NOW, ''
save(K.tickets, ticket)
redis.call('HSET', K.sessions, sid, ticket.id)
exit_queue(waited, false)
ewma('accept_s', NOW - offer.created, 0.1)
emit('offer.accepted', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id, 'session', sid,
  'waited', fmt(waited)})
agent.offer, agent.session, agent.missed, agent.busy_from = '', sid, 0, offer.created
redis.call('ZREM', K.agent_seen, agent.id)
set_status(agent, 'in_call', 'accepted')
save(K.agents, agent)
return done({session = {id = sid, ticket = ticket.id, agent = agent.id, started = NOW, waited = waited}})
