-- join: ARGV 3 token hash, 4 language, 5 topic, 6 class, 7 verdict id, 8 device model, 9 serial,
-- 10 the class's score offset (ordering.py). Refuses a duplicate or a pair no online agent serves.
local tkh, lang, topic, cls = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local p = pair_of(lang, topic)
if not p then return fail('bad_request', 'unknown language or topic') end

local existing = load(K.tickets, redis.call('HGET', K.tokens, tkh))
if existing and (existing.state == 'waiting' or existing.state == 'offered' or existing.state == 'in_call') then
  return fail('duplicate', 'this customer already has ticket ' .. existing.id, {ticket = existing})
end

local online = tonumber(redis.call('HGET', K.cap, 'O:' .. pair_name(lang, topic))) or 0
if online <= 0 then
  local served, topics = {}, {}
  for _, l in ipairs(LANGS) do
    if (tonumber(redis.call('HGET', K.cap, 'L:' .. l)) or 0) > 0 then served[#served + 1] = l end
  end
  for _, t in ipairs(TOPICS) do
    if (tonumber(redis.call('HGET', K.cap, 'O:' .. pair_name(lang, t))) or 0) > 0 then topics[#topics + 1] = t end
  end
  emit('ticket.unserved', {'lang', lang, 'topic', topic, 'cls', cls, 'served', table.concat(served, ',')})
  return fail('not_served', 'no agent online for ' .. lang .. ' / ' .. topic,
    {languages = table.concat(served, ','), topics = table.concat(topics, ',')})
end

local n = redis.call('HINCRBY', K.seq, 'ticket', 1)
local ticket = {id = string.format('t%012d', n), tkh = tkh, lang = lang, topic = topic, cls = cls,
  verdict = ARGV[7], model = ARGV[8], serial = ARGV[9], state = 'waiting', joined = NOW, first_joined = NOW,
  score = string.format('%.17g', tonumber(ARGV[10]) + NOW), offer = '', agent = '', session = '',
  offers = 0, accepted = 0, finished = 0, reason = ''}
redis.call('HSET', K.tokens, tkh, ticket.id)
redis.call('ZADD', K.ticket_seen, NOW, ticket.id)
redis.call('ZADD', WAIT(p), ticket.score, ticket.id)
redis.call('ZADD', AGE(p), NOW, ticket.id)
save(K.tickets, ticket)
redis.call('HINCRBY', K.stats, 'joined_total', 1)
emit('ticket.joined', {'ticket', ticket.id, 'lang', lang, 'topic', topic, 'cls', cls, 'verdict', ARGV[7],
  'model', ARGV[8], 'serial', ARGV[9]})
local offer = route_ticket(ticket)
return done({ticket = ticket, offer = offer})
