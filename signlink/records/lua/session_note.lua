-- session_note: KEYS[1] the session record; ARGV 1 agent id, 2 text, 3 time.
-- Appends a private note of the session's agent. Returns its number, or 0 no record, -1 not theirs.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[1] then return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'notes', 1)
redis.call('HSET', KEYS[1], 'note:' .. n, ARGV[2], 'note_at:' .. n, ARGV[3])
return n
