-- session_rate: KEYS[1] the live session, KEYS[2] the call-events stream; ARGV 1 score, 2 comment,
-- 3 time, 4 the stream's cap. The customer's rating, once (the fact goes to the stream in the same
-- step). Returns 1, or 0 no session, -2 already rated.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'rating') == 1 then return -2 end
redis.call('HSET', KEYS[1], 'rating', ARGV[1], 'rating_comment', ARGV[2], 'rated_at', ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'session_id', 'ticket_id', 'started_at', 'agent_id')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'session.rated', 'at', ARGV[3],
    'session', s[1], 'ticket', s[2], 'started', s[3], 'agent', s[4], 'rating', ARGV[1], 'text', ARGV[2])
return 1
