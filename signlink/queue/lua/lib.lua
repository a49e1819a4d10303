-- lib.lua: prepended to every queue script by signlink/queue/scripts.py.
--
-- Keys come through KEYS and are found by name: ARGV[1] (the call's context, JSON) lists the name of
-- each key in KEYS order: 'tickets', 'agents', ... for the queue's own keys, 'wait:ASL/phone' (and
-- 'age:', 'idle:') for a skill queue, 'reply' for this call's reply. Each script is given exactly the
-- keys its code can touch (scripts.py reads that from this file); a key it was not given is an error.
-- ARGV: 1 context {keys, langs, topics, settings by name}, 2 now ('' = Redis TIME), 3.. the operation's.
-- Records are JSON objects in the hashes tickets / agents / offers. Scripts return one JSON object:
-- {"ok": true, ...} or {"error": code, "message": text, ...}. They check everything before writing.
-- A write's reply is kept for a minute under its call id: a retried call (the connection died before
-- the reply came) answers the same again instead of acting twice.

local CTX = cjson.decode(ARGV[1])
local K = {}
for i, name in ipairs(CTX.keys) do K[name] = KEYS[i] end
local REPLY = K.reply

if REPLY then
  local earlier = redis.call('GET', REPLY)
  if earlier then return earlier end
end

local function split(s)
  local out = {}
  for item in string.gmatch(s or '', '([^,]+)') do out[#out + 1] = item end
  return out
end

local LANGS, TOPICS = CTX.langs, CTX.topics
local LANG_AT, TOPIC_AT = {}, {}
for i, v in ipairs(LANGS) do LANG_AT[v] = i end
for i, v in ipairs(TOPICS) do TOPIC_AT[v] = i end
local NT = #TOPICS
local NP = #LANGS * NT

local NOW
if ARGV[2] == '' then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  NOW = tonumber(ARGV[2])
end

local CFG = CTX.settings
local OFFER_TIMEOUT, MAX_MISSED, GRACE = CFG.offer_timeout_s, CFG.max_missed_offers, CFG.heartbeat_grace_s
local RETRY, MAXLEN, KEEP = CFG.offer_retry_s, CFG.queue_events_maxlen, CFG.finished_ticket_keep_s
local REPLY_KEEP_S = 60

local ONLINE = {available = true, on_offer = true, in_call = true, wrap_up = true, away = true}
local SERVING = {available = true, on_offer = true, in_call = true, wrap_up = true}

-- pairs ---------------------------------------------------------------------------------------------

local function pair_of(lang, topic)
  local a, b = LANG_AT[lang], TOPIC_AT[topic]
  if not a or not b then return nil end
  return (a - 1) * NT + b
end

local function pair_name(lang, topic) return lang .. '/' .. topic end

local function pair_name_at(p)
  return pair_name(LANGS[math.floor((p - 1) / NT) + 1], TOPICS[(p - 1) % NT + 1])
end

local function pair_key(kind, p)
  local name = kind .. ':' .. pair_name_at(p)
  local key = K[name]
  if not key then error('queue script was not given the key ' .. name) end
  return key
end

local function WAIT(p) return pair_key('wait', p) end
local function AGE(p) return pair_key('age', p) end
local function IDLE(p) return pair_key('idle', p) end

-- records, results, events ------------------------------------------------------------------------

local function load(key, id)
  if not id or id == '' then return nil end
  local raw = redis.call('HGET', key, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function save(key, rec) redis.call('HSET', key, rec.id, cjson.encode(rec)) end

local function reply(out)
  local text = cjson.encode(out)
  if REPLY then redis.call('SET', REPLY, text, 'EX', REPLY_KEEP_S) end
  return text
end

local function fail(code, message, extra)
  local out = {error = code, message = message}
  if extra then for k, v in pairs(extra) do out[k] = v end end
  return reply(out)
end

local function done(out)
  out.ok = true
  out.now = NOW
  return reply(out)
end

local function fmt(x) return string.format('%.3f', x) end

-- fields: a flat list name, value, ...; empty values are left out.
local function emit(kind, fields)
  local args = {'XADD', K.events, 'MAXLEN', '~', MAXLEN, '*', 'type', kind, 'at', fmt(NOW)}
  for i = 1, #fields, 2 do
    local v = fields[i + 1]
    if v ~= nil and v ~= '' then
      args[#args + 1] = fields[i]
      args[#args + 1] = tostring(v)
    end
  end
  redis.call(unpack(args))
end

-- An offer id is o + a sequence number: one below the counter existed once and is closed now.
local function offer_gone(offer_id)
  local n = tonumber(string.sub(offer_id, 2))
  local issued = tonumber(redis.call('HGET', K.seq, 'offer')) or 0
  if string.sub(offer_id, 1, 1) == 'o' and n and n >= 1 and n <= issued then
    return fail('closed', 'offer ' .. offer_id .. ' is closed (answered, declined, expired or withdrawn)')
  end
  return fail('not_found', 'no offer ' .. offer_id)
end

-- statistics for the estimator ---------------------------------------------------------------------

local function ewma(name, x, alpha)
  local n = redis.call('HINCRBY', K.stats, name .. '_n', 1)
  local old = tonumber(redis.call('HGET', K.stats, name))
  local v = x
  if old then v = old + math.max(alpha, 1 / n) * (x - old) end
  redis.call('HSET', K.stats, name, string.format('%.6f', v))
end

-- Abandonment rate = abandonments / time spent waiting (the estimate for exponential patience),
-- both sums decayed so the figure follows the day.
local DECAY = 0.99
local function exit_queue(waited, abandoned)
  local s = redis.call('HMGET', K.stats, 'wait_sum', 'aband_sum')
  local ws = (tonumber(s[1]) or 0) * DECAY + waited
  local ab = (tonumber(s[2]) or 0) * DECAY + (abandoned and 1 or 0)
  redis.call('HSET', K.stats, 'wait_sum', string.format('%.6f', ws), 'aband_sum', string.format('%.6f', ab))
  redis.call('HINCRBY', K.stats, abandoned and 'abandoned_total' or 'served_total', 1)
end

-- agents: capacity counters, status, idle lines --------------------------------------------------

-- K.cap: L:<lang> and O:<lang/topic> count online agents, S:<lang/topic> serving ones (not away);
-- K.overlap: <p>|<q> counts online agents skilled for both pairs (the estimator's overlap share).
-- The overlap is k*k counters for k skill pairs, so it follows log-in and log-out only, not every
-- away <-> available toggle (which stays cheap: k counters).
local function cap_change(agent, d_online, d_serving)
  local langs, topics = split(agent.langs), split(agent.topics)
  local names = {}
  for _, l in ipairs(langs) do
    for _, t in ipairs(topics) do names[#names + 1] = pair_name(l, t) end
  end
  if d_online ~= 0 then
    for _, l in ipairs(langs) do redis.call('HINCRBY', K.cap, 'L:' .. l, d_online) end
    for _, a in ipairs(names) do
      for _, b in ipairs(names) do
        if a ~= b then redis.call('HINCRBY', K.overlap, a .. '|' .. b, d_online) end
      end
    end
    for _, n in ipairs(names) do
      local left = redis.call('HINCRBY', K.cap, 'O:' .. n, d_online)
      if left == 0 then
        local slash = string.find(n, '/', 1, true)
        local lang, topic = string.sub(n, 1, slash - 1), string.sub(n, slash + 1)
        local p = pair_of(lang, topic)
        local waiting = p and redis.call('ZCARD', AGE(p)) or 0
        if waiting > 0 then
          emit('queue.unserved', {'lang', lang, 'topic', topic, 'waiting', waiting})
        end
      end
    end
  end
  if d_serving ~= 0 then
    for _, a in ipairs(names) do redis.call('HINCRBY', K.cap, 'S:' .. a, d_serving) end
  end
end

local function set_status(agent, new, reason)
  local old = agent.status
  if old == new then return end
  cap_change(agent, (ONLINE[new] and 1 or 0) - (ONLINE[old] and 1 or 0),
    (SERVING[new] and 1 or 0) - (SERVING[old] and 1 or 0))
  redis.call('HINCRBY', K.agent_counts, old, -1)
  redis.call('HINCRBY', K.agent_counts, new, 1)
  agent.status = new
  emit('agent.status', {'agent', agent.id, 'status', new, 'previous', old, 'reason', reason})
end

-- configured pair indexes of an agent's skills
local function agent_pairs(agent)
  local out = {}
  for _, l in ipairs(split(agent.langs)) do
    for _, t in ipairs(split(agent.topics)) do
      local p = pair_of(l, t)
      if p then out[#out + 1] = p end
    end
  end
  return out
end

local function idle_add(agent)
  for _, p in ipairs(agent_pairs(agent)) do redis.call('ZADD', IDLE(p), agent.since, agent.id) end
end

local function idle_remove(agent)
  for _, p in ipairs(agent_pairs(agent)) do redis.call('ZREM', IDLE(p), agent.id) end
end

local function stop_retry(agent)
  if (agent.retry or 0) > 0 then redis.call('ZREM', K.retry, agent.id) end
  agent.retry = 0
end

-- Leaving wrap-up closes the agent's busy cycle (offer made -> ready for the next): the service time.
local function close_cycle(agent)
  if (agent.busy_from or 0) > 0 then ewma('busy_s', NOW - agent.busy_from, 0.05) end
  agent.busy_from = 0
end

-- offers -------------------------------------------------------------------------------------------

local function make_offer(ticket, agent)
  local n = redis.call('HINCRBY', K.seq, 'offer', 1)
  local offer = {id = string.format('o%012d', n), ticket = ticket.id, agent = agent.id,
    created = NOW, deadline = NOW + OFFER_TIMEOUT}
  save(K.offers, offer)
  redis.call('ZADD', K.offer_due, offer.deadline, offer.id)
  redis.call('ZREM', WAIT(pair_of(ticket.lang, ticket.topic)), ticket.id)
  ticket.state, ticket.offer, ticket.agent = 'offered', offer.id, agent.id
  ticket.offers = (ticket.offers or 0) + 1
  save(K.tickets, ticket)
  emit('offer.created', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id, 'lang', ticket.lang,
    'topic', ticket.topic, 'cls', ticket.cls, 'deadline', fmt(offer.deadline), 'waited', fmt(NOW - ticket.joined)})
  idle_remove(agent)
  stop_retry(agent)
  agent.offer, agent.ticket = offer.id, ticket.id
  set_status(agent, 'on_offer', 'offer')
  save(K.agents, agent)
  return offer
end

-- The longest-idle available agent for a ticket, who gets it as an offer; nil if none.
local function route_ticket(ticket)
  local p = pair_of(ticket.lang, ticket.topic)
  if not p then return nil end
  while true do
    local head = redis.call('ZRANGE', IDLE(p), 0, 0)
    if #head == 0 then return nil end
    local agent = load(K.agents, head[1])
    if agent and agent.status == 'available' and (agent.retry or 0) == 0 then
      return make_offer(ticket, agent)
    end
    redis.call('ZREM', IDLE(p), head[1]) -- not idle after all (audit reports how it got there)
  end
end

-- The best waiting ticket among the agent's skill queues: lowest score, then lowest id.
local function best_ticket(agent)
  local best_id, best_score
  for _, p in ipairs(agent_pairs(agent)) do
    local head = redis.call('ZRANGE', WAIT(p), 0, 0, 'WITHSCORES')
    if head[1] then
      local s = tonumber(head[2])
      if not best_id or s < best_score or (s == best_score and head[1] < best_id) then
        best_id, best_score = head[1], s
      end
    end
  end
  return best_id
end

-- An available agent: offer them the best ticket, or put them in the idle lines.
local function route_agent(agent)
  local id = best_ticket(agent)
  if id then return make_offer(load(K.tickets, id), agent) end
  idle_add(agent)
  save(K.agents, agent)
  return nil
end

local function close_offer(offer)
  redis.call('HDEL', K.offers, offer.id)
  redis.call('ZREM', K.offer_due, offer.id)
end

-- A ticket whose offer ended without a call goes back at its own score: its original place.
local function requeue(ticket)
  ticket.state, ticket.offer, ticket.agent = 'waiting', '', ''
  redis.call('ZADD', WAIT(pair_of(ticket.lang, ticket.topic)), ticket.score, ticket.id)
  save(K.tickets, ticket)
  return route_ticket(ticket)
end

-- Declined or expired: the agent missed it. After MAX_MISSED in a row they go away; otherwise they
-- wait RETRY seconds before their next offer, so the ticket is tried on another agent first.
local function missed(offer, outcome)
  close_offer(offer)
  local ticket = load(K.tickets, offer.ticket)
  local agent = load(K.agents, offer.agent)
  agent.offer, agent.ticket = '', ''
  agent.missed = (agent.missed or 0) + 1
  emit('offer.' .. outcome, {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id,
    'missed', agent.missed, 'waited', fmt(NOW - ticket.joined)})
  redis.call('HINCRBY', K.stats, 'offers_' .. outcome, 1)
  if agent.missed >= MAX_MISSED then
    set_status(agent, 'away', 'missed_offers')
  else
    agent.since = NOW
    set_status(agent, 'available', outcome)
    if RETRY > 0 then
      agent.retry = NOW + RETRY
      redis.call('ZADD', K.retry, agent.retry, agent.id)
    end
  end
  save(K.agents, agent)
  requeue(ticket)
  if agent.status == 'available' and agent.retry == 0 then route_agent(agent) end
  return agent
end

-- The agent stops working while an offer is open: no miss; the caller requeues the ticket after
-- changing the agent's status, so the ticket cannot come straight back to them.
local function withdraw_offer(agent, reason)
  local offer = load(K.offers, agent.offer)
  close_offer(offer)
  local ticket = load(K.tickets, offer.ticket)
  agent.offer, agent.ticket = '', ''
  emit('offer.cancelled', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id, 'reason', reason})
  return ticket
end

-- The agent goes away or offline (not from a call).
local function leave_work(agent, to, reason)
  local ticket
  if agent.status == 'on_offer' then ticket = withdraw_offer(agent, 'agent_' .. to) end
  if agent.status == 'wrap_up' then close_cycle(agent) end
  idle_remove(agent)
  stop_retry(agent)
  if to == 'offline' then redis.call('ZREM', K.agent_seen, agent.id) end
  set_status(agent, to, reason)
  save(K.agents, agent)
  if ticket then requeue(ticket) end
end

-- tickets ------------------------------------------------------------------------------------------

local function finish(ticket, state, reason)
  ticket.state, ticket.finished, ticket.reason = state, NOW, reason
  redis.call('ZADD', K.done, NOW, ticket.id)
  save(K.tickets, ticket)
end

local function out_of_queue(ticket)
  local p = pair_of(ticket.lang, ticket.topic)
  if p then
    redis.call('ZREM', WAIT(p), ticket.id)
    redis.call('ZREM', AGE(p), ticket.id)
  end
  redis.call('ZREM', K.ticket_seen, ticket.id)
end

-- A waiting or offered ticket leaves (reason: left | timeout); its open offer is cancelled and the
-- agent, who did nothing wrong, keeps their place among the idle.
local function abandon(ticket, reason)
  out_of_queue(ticket)
  local waited = NOW - ticket.joined
  local offer = load(K.offers, ticket.offer)
  ticket.offer, ticket.agent = '', ''
  finish(ticket, 'abandoned', reason)
  exit_queue(waited, true)
  emit('ticket.abandoned', {'ticket', ticket.id, 'lang', ticket.lang, 'topic', ticket.topic, 'cls', ticket.cls,
    'reason', reason, 'waited', fmt(waited)})
  if offer then
    close_offer(offer)
    local agent = load(K.agents, offer.agent)
    agent.offer, agent.ticket = '', ''
    emit('offer.cancelled', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id,
      'reason', 'ticket_' .. reason})
    set_status(agent, 'available', 'offer_cancelled')
    route_agent(agent)
  end
end

-- The call of an in_call ticket ends; the agent goes to wrap-up.
local function end_call(ticket, by)
  local agent = load(K.agents, ticket.agent)
  local duration = NOW - ticket.accepted
  emit('session.ended', {'session', ticket.session, 'ticket', ticket.id, 'agent', agent.id, 'by', by,
    'duration', fmt(duration)})
  agent.session, agent.ticket = '', ''
  set_status(agent, 'wrap_up', 'session_ended')
  redis.call('ZADD', K.agent_seen, NOW, agent.id)
  save(K.agents, agent)
  return agent
end
