-- session_wrap_up: KEYS[1] the session record; ARGV 1 agent id, 2 outcome, 3 notes, 4 time.
-- Only the session's agent, and only once. Returns 1, or 0 no record, -1 not theirs, -2 already done.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[1] then return -1 end
if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return -2 end
redis.call('HSET', KEYS[1], 'outcome', ARGV[2], 'wrap_notes', ARGV[3], 'wrapped_at', ARGV[4])
return 1
