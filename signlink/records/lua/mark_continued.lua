-- Mark a failed check's verdict as "continued despite failed check", atomically.
-- KEYS[1]: the verdict hash. ARGV[1]: the time of marking (UTC ISO 8601).
-- Returns {status, record, continued_at}: status 0 = no such verdict, -1 = the check passed
-- (nothing to continue despite), 1 = marked (a second call keeps the first time).
if redis.call('EXISTS', KEYS[1]) == 0 then
    return {0, false, false}
end
if redis.call('HGET', KEYS[1], 'passed') == '1' then
    return {-1, false, false}
end
redis.call('HSETNX', KEYS[1], 'continued_at', ARGV[1])
return {1, redis.call('HGET', KEYS[1], 'record'), redis.call('HGET', KEYS[1], 'continued_at')}
