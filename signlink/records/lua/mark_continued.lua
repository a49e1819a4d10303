-- Mark a failed check's verdict as "continued despite failed check", atomically.
-- KEYS[1]: the verdict hash, KEYS[2]: the call-events stream. ARGV[1]: the time of marking (UTC
-- ISO 8601), ARGV[2]: epoch seconds, ARGV[3]: the stream's cap.
-- Returns {status, record, continued_at}: status 0 = no such verdict, -1 = the check passed
-- (nothing to continue despite), 1 = marked (a second call keeps the first time).
if redis.call('EXISTS', KEYS[1]) == 0 then
    return {0, false, false}
end
if redis.call('HGET', KEYS[1], 'passed') == '1' then
    return {-1, false, false}
end
if redis.call('HSETNX', KEYS[1], 'continued_at', ARGV[1]) == 1 then
    local id = cjson.decode(redis.call('HGET', KEYS[1], 'record'))['id']
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'type', 'check.continued', 'at', ARGV[2],
        'verdict', id, 'text', ARGV[1])
end
return {1, redis.call('HGET', KEYS[1], 'record'), redis.call('HGET', KEYS[1], 'continued_at')}
