-- transfer: ARGV 3 ticket id, 4 language, 5 topic, 6 agent id ('' = not from a call).
-- A waiting ticket, or one in a call (whose agent must be ARGV 6; the call ends, the agent wraps up),
-- moves to another skill queue keeping the time it has waited: its score shifts by exactly the time
-- it did not wait, so it lands where a ticket that joined `waited` seconds ago would be.
local tid, lang, topic, agent_id = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ticket = load(K.tickets, tid)
if not ticket then return fail('not_found', 'no ticket ' .. tid) end
local to = pair_of(lang, topic)
if not to then return fail('bad_request', 'unknown language or topic') end
if ticket.lang == lang and ticket.topic == topic then
  return fail('bad_request', 'ticket ' .. tid .. ' is already in ' .. pair_name(lang, topic))
end
if ticket.state == 'offered' then
  return fail('conflict', 'ticket ' .. tid .. ' is on offer to an agent; try again when it is answered')
end
if ticket.state ~= 'waiting' and ticket.state ~= 'in_call' then
  return fail('closed', 'ticket ' .. tid .. ' has ' .. ticket.state)
end
if ticket.state == 'in_call' and ticket.agent ~= agent_id then
  return fail('forbidden', 'only the agent in the call can transfer ticket ' .. tid)
end
if (tonumber(redis.call('HGET', K.cap, 'O:' .. pair_name(lang, topic))) or 0) <= 0 then
  local served, topics = {}, {}
  for _, l in ipairs(LANGS) do
    if (tonumber(redis.call('HGET', K.cap, 'L:' .. l)) or 0) > 0 then served[#served + 1] = l end
  end
  for _, t in ipairs(TOPICS) do
    if (tonumber(redis.call('HGET', K.cap, 'O:' .. pair_name(lang, t))) or 0) > 0 then topics[#topics + 1] = t end
  end
  return fail('not_served', 'no agent online for ' .. lang .. ' / ' .. topic,
    {languages = table.concat(served, ','), topics = table.concat(topics, ',')})
end

local from_lang, from_topic, session = ticket.lang, ticket.topic, ''
if ticket.state == 'in_call' then
  session = ticket.session
  end_call(ticket, 'transfer')
  local waited = ticket.accepted - ticket.joined
  local shift = (NOW - waited) - ticket.joined
  ticket.joined = NOW - waited
  ticket.score = string.format('%.17g', tonumber(ticket.score) + shift)
  ticket.session, ticket.accepted, ticket.agent = '', 0, ''
  -- the old session id stays mapped (end_session on it says "ended") until the ticket is purged
  ticket.past = (ticket.past or '') .. session .. ','
else
  out_of_queue(ticket)
end
ticket.lang, ticket.topic, ticket.state = lang, topic, 'waiting'
redis.call('ZADD', WAIT(to), ticket.score, ticket.id)
redis.call('ZADD', AGE(to), ticket.joined, ticket.id)
redis.call('ZADD', K.ticket_seen, NOW, ticket.id)
save(K.tickets, ticket)
emit('ticket.transferred', {'ticket', ticket.id, 'from_lang', from_lang, 'from_topic', from_topic,
  'lang', lang, 'topic', topic, 'cls', ticket.cls, 'agent', agent_id, 'session', session,
  'waited', fmt(NOW - ticket.joined)})
local offer = route_ticket(ticket)
return done({ticket = ticket, offer = offer})
