-- session_note: KEYS[1] the live session, KEYS[2] the call-events stream; ARGV 1 agent id, 2 text,
-- 3 time, 4 the stream's cap. Appends a private note of the session's agent (the fact goes to the
-- stream in the same step). Returns its number, or 0 no session, -1 not theirs.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[1] then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'notes', 1)
redis.call('HSET', KEYS[1], 'note:' .. n, ARGV[2], 'note_at:' .. n, ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'session_id', 'ticket_id', 'started_at')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'session.note', 'at', ARGV[3],
    'session', s[1], 'ticket', s[2], 'started', s[3], 'agent', ARGV[1], 'n', n, 'text', ARGV[2])
return n
