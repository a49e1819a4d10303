"""Call presence on a real Redis: who is here, gone, back; stale processes; the grace; one claim each."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from signlink.signaling.presence import Before, CallRef, Presence, parse_member
from signlink.signaling.protocol import Role

CALL = CallRef("s000000000001", "t000000000001", "ana")
AGENT, CUSTOMER = Role.AGENT, Role.CUSTOMER


def test_a_member_names_the_call_and_the_side() -> None:
    assert CALL.member(CUSTOMER) == "s000000000001|t000000000001|ana|c"
    assert parse_member(CALL.member(AGENT).encode()) == (CALL, AGENT)
    assert CALL.party(CUSTOMER) == "c:t000000000001" and CALL.party(AGENT) == "a:ana"


async def test_a_side_drops_and_comes_back(redis: Redis) -> None:
    presence = Presence(redis, "pt")
    await presence.start(CALL, customer_connected=True)
    assert await presence.is_present(CALL, CUSTOMER) and await presence.is_present(CALL, AGENT)
    assert await presence.drop(CALL, CUSTOMER) is True
    assert await presence.drop(CALL, CUSTOMER) is False  # told once only
    assert not await presence.is_present(CALL, CUSTOMER)
    assert await presence.connect(CALL, CUSTOMER) is Before.ABSENT
    assert await presence.connect(CALL, CUSTOMER) is Before.PRESENT
    await presence.forget(CALL)
    assert await presence.connect(CALL, AGENT) is Before.NONE


async def test_a_customer_not_connected_when_the_call_starts_is_already_on_the_clock(redis: Redis) -> None:
    presence = Presence(redis, "pt")
    await presence.start(CALL, customer_connected=False)
    assert not await presence.is_present(CALL, CUSTOMER)
    swept = await presence.sweep(stale_s=60, grace_s=30)
    assert swept.expired == ()
    await asyncio.sleep(0.1)
    swept = await presence.sweep(stale_s=60, grace_s=0.05)
    assert swept.expired == ((CALL, CUSTOMER),)
    assert (await presence.sweep(stale_s=60, grace_s=0.05)).expired == ()  # claimed once


async def test_members_nobody_vouches_for_become_gone_then_expire(redis: Redis) -> None:
    presence = Presence(redis, "pt")
    other = CallRef("s000000000002", "t000000000002", "bo")
    await presence.start(CALL, customer_connected=True)
    await presence.start(other, customer_connected=True)
    await asyncio.sleep(0.6)
    # This process still holds the other call's sockets: it vouches for them.
    assert await presence.refresh([(other, AGENT), (other, CUSTOMER)]) == []
    swept = await presence.sweep(stale_s=0.5, grace_s=30)
    assert sorted(m for m, _ in [(c.member(r), r) for c, r in swept.gone]) == [
        CALL.member(AGENT),
        CALL.member(CUSTOMER),
    ]
    assert swept.expired == ()
    # A slow process that was taken for gone vouches again: it is told so.
    assert await presence.refresh([(CALL, AGENT)]) == [(CALL, AGENT)]
    await asyncio.sleep(0.1)
    await presence.refresh([(CALL, AGENT), (other, AGENT), (other, CUSTOMER)])
    # The customer has been gone since before the first sleep; everyone else was vouched for just now.
    swept = await presence.sweep(stale_s=30, grace_s=0.5)
    assert swept.expired == ((CALL, CUSTOMER),)


async def test_concurrent_sweeps_claim_each_member_once(redis: Redis) -> None:
    presence = Presence(redis, "pt")
    calls = [CallRef(f"s{i:012d}", f"t{i:012d}", f"agent{i}") for i in range(50)]
    for call in calls:
        await presence.start(call, customer_connected=True)
    await asyncio.sleep(0.2)
    sweeps = await asyncio.gather(*(Presence(redis, "pt").sweep(stale_s=0.1, grace_s=30) for _ in range(4)))
    gone = [member for s in sweeps for member in s.gone]
    assert len(gone) == 100 and len(set(gone)) == 100
