-- lib.lua: prepended to every queue script by signlink/queue/scripts.py.
--
-- Every key comes through KEYS, in the layout QueueStore builds (store.py, `_key_list`):
--   1..16  the global keys below
--   then, for each configured (language, topic) pair p in order: WAIT(p), then AGE(p), then IDLE(p)
-- ARGV: 1 languages (csv), 2 topics (csv), 3 now ('' = Redis TIME), 4 settings (csv), 5.. the operation's.
-- Records are JSON objects in the hashes tickets / agents / offers. Scripts return one JSON object:
-- {"ok": true, ...} or {"error": code, "message": text, ...}. They check everything before writing.

local K_SEQ, K_TICKETS, K_TOKENS, K_AGENTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_OFFERS, K_SESSIONS, K_OFFER_DUE, K_TICKET_SEEN = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_AGENT_SEEN, K_RETRY, K_DONE, K_CAP = KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local K_OVERLAP, K_STATS, K_AGENT_COUNTS, K_EVENTS = KEYS[13], KEYS[14], KEYS[15], KEYS[16]
local NG = 16

local function split(s)
  local out = {}
  for item in string.gmatch(s or '', '([^,]+)') do out[#out + 1] = item end
  return out
end

local LANGS, TOPICS = split(ARGV[1]), split(ARGV[2])
local LANG_AT, TOPIC_AT = {}, {}
for i, v in ipairs(LANGS) do LANG_AT[v] = i end
for i, v in ipairs(TOPICS) do TOPIC_AT[v] = i end
local NT = #TOPICS
local NP = #LANGS * NT

local NOW
if ARGV[3] == '' then
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  NOW = tonumber(ARGV[3])
end

local CFG = split(ARGV[4])
local OFFER_TIMEOUT, MAX_MISSED, GRACE = tonumber(CFG[1]), tonumber(CFG[2]), tonumber(CFG[3])
local RETRY, MAXLEN, KEEP = tonumber(CFG[4]), CFG[5], tonumber(CFG[6])

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

local function WAIT(p) return KEYS[NG + p] end
local function AGE(p) return KEYS[NG + NP + p] end
local function IDLE(p) return KEYS[NG + 2 * NP + p] end

-- records, results, events ------------------------------------------------------------------------

local function load(key, id)
  if not id or id == '' then return nil end
  local raw = redis.call('HGET', key, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function save(key, rec) redis.call('HSET', key, rec.id, cjson.encode(rec)) end

local function fail(code, message, extra)
  local out = {error = code, message = message}
  if extra then for k, v in pairs(extra) do out[k] = v end end
  return cjson.encode(out)
end

local function done(out)
  out.ok = true
  out.now = NOW
  return cjson.encode(out)
end

local function fmt(x) return string.format('%.3f', x) end

-- fields: a flat list name, value, ...; empty values are left out.
local function emit(kind, fields)
  local args = {'XADD', K_EVENTS, 'MAXLEN', '~', MAXLEN, '*', 'type', kind, 'at', fmt(NOW)}
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
  local issued = tonumber(redis.call('HGET', K_SEQ, 'offer')) or 0
  if string.sub(offer_id, 1, 1) == 'o' and n and n >= 1 and n <= issued then
    return fail('closed', 'offer ' .. offer_id .. ' is closed (answered, declined, expired or withdrawn)')
  end
  return fail('not_found', 'no offer ' .. offer_id)
end

-- statistics for the estimator ---------------------------------------------------------------------

local function ewma(name, x, alpha)
  local n = redis.call('HINCRBY', K_STATS, name .. '_n', 1)
  local old = tonumber(redis.call('HGET', K_STATS, name))
  local v = x
  if old then v = old + math.max(alpha, 1 / n) * (x - old) end
  redis.call('HSET', K_STATS, name, string.format('%.6f', v))
end

-- Abandonment rate = abandonments / time spent waiting (the estimate for exponential patience),
-- both sums decayed so the figure follows the day.
local DECAY = 0.99
local function exit_queue(waited, abandoned)
  local s = redis.call('HMGET', K_STATS, 'wait_sum', 'aband_sum')
  local ws = (tonumber(s[1]) or 0) * DECAY + waited
  local ab = (tonumber(s[2]) or 0) * DECAY + (abandoned and 1 or 0)
  redis.call('HSET', K_STATS, 'wait_sum', string.format('%.6f', ws), 'aband_sum', string.format('%.6f', ab))
  redis.call('HINCRBY', K_STATS, abandoned and 'abandoned_total' or 'served_total', 1)
end

-- agents: capacity counters, status, idle lines --------------------------------------------------

-- K_CAP: L:<lang> and O:<lang/topic> count online agents, S:<lang/topic> serving ones (not away);
-- K_OVERLAP: <p>|<q> counts online agents skilled for both pairs (the estimator's overlap share).
-- The overlap is k*k counters for k skill pairs, so it follows log-in and log-out only, not every
-- away <-> available toggle (which stays cheap: k counters).
local function cap_change(agent, d_online, d_serving)
  local langs, topics = split(agent.langs), split(agent.topics)
  local names = {}
  for _, l in ipairs(langs) do
    for _, t in ipairs(topics) do names[#names + 1] = pair_name(l, t) end
  end
  if d_online ~= 0 then
    for _, l in ipairs(langs) do redis.call('HINCRBY', K_CAP, 'L:' .. l, d_online) end
    for _, a in ipairs(names) do
      for _, b in ipairs(names) do
        if a ~= b then redis.call('HINCRBY', K_OVERLAP, a .. '|' .. b, d_online) end
      end
    end
    for _, n in ipairs(names) do
      local left = redis.call('HINCRBY', K_CAP, 'O:' .. n, d_online)
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
    for _, a in ipairs(names) do redis.call('HINCRBY', K_CAP, 'S:' .. a, d_serving) end
  end
end

local function set_status(agent, new, reason)
  local old = agent.status
  if old == new then return end
  cap_change(agent, (ONLINE[new] and 1 or 0) - (ONLINE[old] and 1 or 0),
    (SERVING[new] and 1 or 0) - (SERVING[old] and 1 or 0))
  redis.call('HINCRBY', K_AGENT_COUNTS, old, -1)
  redis.call('HINCRBY', K_AGENT_COUNTS, new, 1)
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
  if (agent.retry or 0) > 0 then redis.call('ZREM', K_RETRY, agent.id) end
  agent.retry = 0
end

-- Leaving wrap-up closes the agent's busy cycle (offer made -> ready for the next): the service time.
local function close_cycle(agent)
  if (agent.busy_from or 0) > 0 then ewma('busy_s', NOW - agent.busy_from, 0.05) end
  agent.busy_from = 0
end

-- offers -------------------------------------------------------------------------------------------

local function make_offer(ticket, agent)
  local n = redis.call('HINCRBY', K_SEQ, 'offer', 1)
  local offer = {id = string.format('o%012d', n), ticket = ticket.id, agent = agent.id,
    created = NOW, deadline = NOW + OFFER_TIMEOUT}
  save(K_OFFERS, offer)
  redis.call('ZADD', K_OFFER_DUE, offer.deadline, offer.id)
  redis.call('ZREM', WAIT(pair_of(ticket.lang, ticket.topic)), ticket.id)
  ticket.state, ticket.offer, ticket.agent = 'offered', offer.id, agent.id
  ticket.offers = (ticket.offers or 0) + 1
  save(K_TICKETS, ticket)
  emit('offer.created', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id, 'lang', ticket.lang,
    'topic', ticket.topic, 'cls', ticket.cls, 'deadline', fmt(offer.deadline), 'waited', fmt(NOW - ticket.joined)})
  idle_remove(agent)
  stop_retry(agent)
  agent.offer, agent.ticket = offer.id, ticket.id
  set_status(agent, 'on_offer', 'offer')
  save(K_AGENTS, agent)
  return offer
end

-- The longest-idle available agent for a ticket, who gets it as an offer; nil if none.
local function route_ticket(ticket)
  local p = pair_of(ticket.lang, ticket.topic)
  if not p then return nil end
  while true do
    local head = redis.call('ZRANGE', IDLE(p), 0, 0)
    if #head == 0 then return nil end
    local agent = load(K_AGENTS, head[1])
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
  if id then return make_offer(load(K_TICKETS, id), agent) end
  idle_add(agent)
  save(K_AGENTS, agent)
  return nil
end

local function close_offer(offer)
  redis.call('HDEL', K_OFFERS, offer.id)
  redis.call('ZREM', K_OFFER_DUE, offer.id)
end

-- A ticket whose offer ended without a call goes back at its own score: its original place.
local function requeue(ticket)
  ticket.state, ticket.offer, ticket.agent = 'waiting', '', ''
  redis.call('ZADD', WAIT(pair_of(ticket.lang, ticket.topic)), ticket.score, ticket.id)
  save(K_TICKETS, ticket)
  return route_ticket(ticket)
end

-- Declined or expired: the agent missed it. After MAX_MISSED in a row they go away; otherwise they
-- wait RETRY seconds before their next offer, so the ticket is tried on another agent first.
local function missed(offer, outcome)
  close_offer(offer)
  local ticket = load(K_TICKETS, offer.ticket)
  local agent = load(K_AGENTS, offer.agent)
  agent.offer, agent.ticket = '', ''
  agent.missed = (agent.missed or 0) + 1
  emit('offer.' .. outcome, {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id,
    'missed', agent.missed, 'waited', fmt(NOW - ticket.joined)})
  redis.call('HINCRBY', K_STATS, 'offers_' .. outcome, 1)
  if agent.missed >= MAX_MISSED then
    set_status(agent, 'away', 'missed_offers')
  else
    agent.since = NOW
    set_status(agent, 'available', outcome)
    if RETRY > 0 then
      agent.retry = NOW + RETRY
      redis.call('ZADD', K_RETRY, agent.retry, agent.id)
    end
  end
  save(K_AGENTS, agent)
  requeue(ticket)
  if agent.status == 'available' and agent.retry == 0 then route_agent(agent) end
  return agent
end

-- The agent stops working while an offer is open: no miss; the caller requeues the ticket after
-- changing the agent's status, so the ticket cannot come straight back to them.
local function withdraw_offer(agent, reason)
  local offer = load(K_OFFERS, agent.offer)
  close_offer(offer)
  local ticket = load(K_TICKETS, offer.ticket)
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
  if to == 'offline' then redis.call('ZREM', K_AGENT_SEEN, agent.id) end
  set_status(agent, to, reason)
  save(K_AGENTS, agent)
  if ticket then requeue(ticket) end
end

-- tickets ------------------------------------------------------------------------------------------

local function finish(ticket, state, reason)
  ticket.state, ticket.finished, ticket.reason = state, NOW, reason
  redis.call('ZADD', K_DONE, NOW, ticket.id)
  save(K_TICKETS, ticket)
end

local function out_of_queue(ticket)
  local p = pair_of(ticket.lang, ticket.topic)
  if p then
    redis.call('ZREM', WAIT(p), ticket.id)
    redis.call('ZREM', AGE(p), ticket.id)
  end
  redis.call('ZREM', K_TICKET_SEEN, ticket.id)
end

-- A waiting or offered ticket leaves (reason: left | timeout); its open offer is cancelled and the
-- agent, who did nothing wrong, keeps their place among the idle.
local function abandon(ticket, reason)
  out_of_queue(ticket)
  local waited = NOW - ticket.joined
  local offer = load(K_OFFERS, ticket.offer)
  ticket.offer, ticket.agent = '', ''
  finish(ticket, 'abandoned', reason)
  exit_queue(waited, true)
  emit('ticket.abandoned', {'ticket', ticket.id, 'lang', ticket.lang, 'topic', ticket.topic, 'cls', ticket.cls,
    'reason', reason, 'waited', fmt(waited)})
  if offer then
    close_offer(offer)
    local agent = load(K_AGENTS, offer.agent)
    agent.offer, agent.ticket = '', ''
    emit('offer.cancelled', {'offer', offer.id, 'ticket', ticket.id, 'agent', agent.id,
      'reason', 'ticket_' .. reason})
    set_status(agent, 'available', 'offer_cancelled')
    route_agent(agent)
  end
end

-- The call of an in_call ticket ends; the agent goes to wrap-up.
local function end_call(ticket, by)
  local agent = load(K_AGENTS, ticket.agent)
  local duration = NOW - ticket.accepted
  emit('session.ended', {'session', ticket.session, 'ticket', ticket.id, 'agent', agent.id, 'by', by,
    'duration', fmt(duration)})
  agent.session, agent.ticket = '', ''
  set_status(agent, 'wrap_up', 'session_ended')
  redis.call('ZADD', K_AGENT_SEEN, NOW, agent.id)
  save(K_AGENTS, agent)
  return agent
end

-- outages -------------------------------------------------------------------------------------------
-- While Redis is away (or stopped) no process can vouch for the sockets it holds. The sweeper notices
-- the gap (no sweep for longer than it allows) and sets a floor: nobody counts as silent from before
-- it, so grace runs from when a customer could last be seen, not from the last successful write.

local function seen_floor() return tonumber(redis.call('HGET', K_SEQ, 'seen_floor')) or 0 end

local function seen_at(key, id)
  local seen = tonumber(redis.call('ZSCORE', key, id))
  if seen then return math.max(seen, seen_floor()) end
  return nil
end
