-- join: ARGV 5 token hash, 6 language, 7 topic, 8 class, 9 verdict id, 10 device model, 11 serial,
-- 12 the class's score offset (ordering.py). Refuses a duplicate or a pair no online agent serves.
local tkh, lang, topic, cls = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local p = pair_of(lang, topic)
if not p then return fail('bad_request', 'unknown language or topic') end

local existing = load(K_TICKETS, redis.call('HGET', K_TOKENS, tkh))
if existing and (existing.state == 'waiting' or existing.state == 'offered' or existing.state == 'in_call') then
  return fail('duplicate', 'this customer already has ticket ' .. existing.id, {ticket = existing})
end

local online = tonumber(redis.call('HGET', K_CAP, 'O:' .. pair_name(lang, topic))) or 0
if online <= 0 then
  local served, topics = {}, {}
  for _, l in ipairs(LANGS) do
    if (tonumber(redis.call('HGET', K_CAP, 'L:' .. l)) or 0) > 0 then served[#served + 1] = l end
  end
  for _, t in ipairs(TOPICS) do
    if (tonumber(redis.call('HGET', K_CAP, 'O:' .. pair_name(lang, t))) or 0) > 0 then topics[#topics + 1] = t end
  end
  emit('ticket.unserved', {'lang', lang, 'topic', topic, 'cls', cls, 'served', table.concat(served, ',')})
  return fail('not_served', 'no agent online for ' .. lang .. ' / ' .. topic,
    {languages = table.concat(served, ','), topics = table.concat(topics, ',')})
end

local n = redis.call('HINCRBY', K_SEQ, 'ticket', 1)
local ticket = {id = string.format('t%012d', n), tkh = tkh, lang = lang, topic = topic, cls = cls,
  verdict = ARGV[9], model = ARGV[10], serial = ARGV[11], state = 'waiting', joined = NOW, first_joined = NOW,
  score = string.format('%.17g', tonumber(ARGV[12]) + NOW), offer = '', agent = '', session = '',
  offers = 0, accepted = 0, finished = 0, reason = ''}
redis.call('HSET', K_TOKENS, tkh, ticket.id)
redis.call('ZADD', K_TICKET_SEEN, NOW, ticket.id)
redis.call('ZADD', WAIT(p), ticket.score, ticket.id)
redis.call('ZADD', AGE(p), NOW, ticket.id)
save(K_TICKETS, ticket)
redis.call('HINCRBY', K_STATS, 'joined_total', 1)
emit('ticket.joined', {'ticket', ticket.id, 'lang', lang, 'topic', topic, 'cls', cls, 'verdict', ARGV[9],
  'model', ARGV[10], 'serial', ARGV[11]})
local offer = route_ticket(ticket)
return done({ticket = ticket, offer = offer})
