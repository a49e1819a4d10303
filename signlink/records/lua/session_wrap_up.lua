-- session_wrap_up: KEYS[1] the live session, KEYS[2] the call-events stream; ARGV 1 agent id,
-- 2 outcome, 3 notes, 4 time, 5 the stream's cap. Only the session's agent, and only once; the
-- fact goes to the stream in the same step. Returns 1, or 0 no session, -1 not theirs, -2 already done.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[1] then return -1 end
if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return -2 end
redis.call('HSET', KEYS[1], 'outcome', ARGV[2], 'wrap_notes', ARGV[3], 'wrapped_at', ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'session_id', 'ticket_id', 'started_at')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', 'session.wrapped_up', 'at', ARGV[4],
    'session', s[1], 'ticket', s[2], 'started', s[3], 'agent', ARGV[1], 'outcome', ARGV[2], 'text', ARGV[3])
return 1
