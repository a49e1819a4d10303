-- session_rate: KEYS[1] the session record; ARGV 1 score, 2 comment, 3 time.
-- The customer's rating, once. Returns 1, or 0 no record, -2 already rated.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'rating') == 1 then return -2 end
redis.call('HSET', KEYS[1], 'rating', ARGV[1], 'rating_comment', ARGV[2], 'rated_at', ARGV[3])
return 1
