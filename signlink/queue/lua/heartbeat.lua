-- heartbeat (customer): ARGV 3 ticket id. Within the grace the place is kept; after it the ticket is
-- abandoned now (the sweeper would have done the same) and the caller is told.
local ticket = load(K.tickets, ARGV[3])
if not ticket then return fail('not_found', 'no ticket ' .. ARGV[3]) end
if ticket.state == 'waiting' or ticket.state == 'offered' then
  local seen = tonumber(redis.call('ZSCORE', K.ticket_seen, ticket.id))
  if seen and NOW - seen > GRACE then
    abandon(ticket, 'timeout')
    return fail('closed', 'ticket ' .. ticket.id .. ' was given up after ' .. GRACE .. ' s without a heartbeat',
      {ticket = ticket})
  end
  redis.call('ZADD', K.ticket_seen, NOW, ticket.id)
elseif ticket.state ~= 'in_call' then
  return fail('closed', 'ticket ' .. ticket.id .. ' has ' .. ticket.state, {ticket = ticket})
end
return done({ticket = ticket})
