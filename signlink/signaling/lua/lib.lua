-- lib.lua: prepended to every presence script by signlink/signaling/presence.py.
-- KEYS[1] seen: members connected now, by the time their process last vouched for them.
-- KEYS[2] absent: members whose socket is gone, by the time it went.
-- KEYS[3] sweep: hash swept_at (the last sweep) and floor (nobody counts as silent from before it).
-- KEYS[4] (drop only) the closing party's connection counter, named by signaling/hub.py.
-- A member is "<session id>|<ticket id>|<agent id>|<c or a>". Time is Redis' own clock.
local SEEN, ABSENT, SWEEP = KEYS[1], KEYS[2], KEYS[3]
local t = redis.call('TIME')
local NOW = tonumber(t[1]) + tonumber(t[2]) / 1000000
