-- dump: every structure of the queue, read atomically, for the audit (audit.py) and tests. O(size).
local function hash(key) return redis.call('HGETALL', key) end
local function zset(key) return redis.call('ZRANGE', key, 0, -1, 'WITHSCORES') end
local pairs_out = {}
for p = 1, NP do
  pairs_out[#pairs_out + 1] = {name = pair_name_at(p), wait = zset(WAIT(p)), age = zset(AGE(p)),
    idle = zset(IDLE(p))}
end
return done({seq = hash(K.seq), tickets = hash(K.tickets), tokens = hash(K.tokens), agents = hash(K.agents),
  offers = hash(K.offers), sessions = hash(K.sessions), offer_due = zset(K.offer_due),
  ticket_seen = zset(K.ticket_seen), agent_seen = zset(K.agent_seen), retry = zset(K.retry),
  done = zset(K.done), cap = hash(K.cap), overlap = hash(K.overlap), agent_counts = hash(K.agent_counts),
  pairs = pairs_out})
