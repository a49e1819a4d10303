-- leave: ARGV 3 ticket id. A waiting or offered customer leaves (abandoned, reason "left").
-- Leaving twice is harmless; a customer in a call ends the session instead.
local ticket = load(K.tickets, ARGV[3])
if not ticket then return fail('not_found', 'no ticket ' .. ARGV[3]) end
if ticket.state == 'in_call' then
  return fail('conflict', 'ticket ' .. ticket.id .. ' is in a call: end the session instead')
end
if ticket.state == 'waiting' or ticket.state == 'offered' then abandon(ticket, 'left') end
return done({ticket = ticket})
