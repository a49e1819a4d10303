-- dump: every structure of the queue, read atomically, for the audit (audit.py) and tests. O(size).
local function hash(key) return redis.call('HGETALL', key) end
local function zset(key) return redis.call('ZRANGE', key, 0, -1, 'WITHSCORES') end
local pairs_out = {}
for p = 1, NP do
  pairs_out[#pairs_out + 1] = {name = pair_name_at(p), wait = zset(WAIT(p)), age = zset(AGE(p)),
    idle = zset(IDLE(p))}
end
return done({seq = hash(K_SEQ), tickets = hash(K_TICKETS), tokens = hash(K_TOKENS), agents = hash(K_AGENTS),
  offers = hash(K_OFFERS), sessions = hash(K_SESSIONS), offer_due = zset(K_OFFER_DUE),
  ticket_seen = zset(K_TICKET_SEEN), agent_seen = zset(K_AGENT_SEEN), retry = zset(K_RETRY),
  done = zset(K_DONE), cap = hash(K_CAP), overlap = hash(K_OVERLAP), agent_counts = hash(K_AGENT_COUNTS),
  pairs = pairs_out})
