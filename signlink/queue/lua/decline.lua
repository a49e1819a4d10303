-- decline: ARGV 3 agent id, 4 offer id. The ticket goes back to its place; the agent has missed one.
-- A decline after the deadline counts as expired.
local agent_id, offer_id = ARGV[3], ARGV[4]
local offer = load(K.offers, offer_id)
if not offer then return offer_gone(offer_id) end
if offer.agent ~= agent_id then return fail('forbidden', 'offer ' .. offer_id .. ' is not for agent ' .. agent_id) end
local outcome = NOW >= offer.deadline and 'expired' or 'declined'
local agent = missed(offer, outcome)
return done({agent = agent, outcome = outcome})
