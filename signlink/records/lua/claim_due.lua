-- claim_due: KEYS[1] a sorted set of jobs by due time; ARGV 1 now, 2 how many, 3 lease until.
-- Takes the jobs due now and moves them to the lease time, so no other process takes them while
-- this one works; a process that dies leaves them to be taken again when the lease runs out.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[3], member) end
return due
