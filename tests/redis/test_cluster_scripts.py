"""Request limits, login limits, revocations and call presence work on Redis Cluster: their keys carry
the deployment's hash tag (one slot, so each script's keys are on one node) and revocations use
sharded pub/sub on that node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.crc import key_slot

from signlink.accounts import AccountStore
from signlink.accounts.revocations import Revocation, RevocationFeed
from signlink.config import Settings
from signlink.errors import RateLimited
from signlink.redisio import Keyspace, RedisClient, connect
from signlink.redisio.client import endpoint_for
from signlink.signaling.presence import CallRef, Presence
from signlink.signaling.protocol import Role
from signlink.web.limits import RequestLimits
from tests.support.redis_proc import ClusterProcesses, command

SPACE = Keyspace("ct", hash_tag=True)


@pytest.fixture
async def client(redis_cluster: ClusterProcesses) -> AsyncIterator[RedisClient]:
    redis = connect(redis_cluster.url, slot_key=SPACE.root)
    await redis.flushdb()
    yield redis
    await redis.aclose()


async def test_request_limits_count_in_one_slot_on_cluster(client: RedisClient) -> None:
    limits = RequestLimits(client, SPACE, Settings(limit_tickets_per_address=2, limit_tickets_overall=50))
    assert {key_slot(k.encode()) for k in limits.keys_for("tickets", "::1")} == {key_slot(b"{ct}")}
    await limits.take("tickets", "::1")
    await limits.take("tickets", "::1")
    with pytest.raises(RateLimited) as refused:
        await limits.take("tickets", "::1")
    assert 0 < refused.value.retry_after_s <= 60
    await limits.take("tickets", "10.0.0.2")  # another address has its own count


async def test_login_limits_count_per_user_and_address_on_cluster(client: RedisClient) -> None:
    store = AccountStore(client, SPACE)
    limits = {"window_s": 60, "per_user": 2, "per_address": 10}
    tries = [await store.login_attempt("ana", "10.0.0.1", **limits) for _ in range(3)]
    assert tries[:2] == [0, 0] and tries[2] > 0
    assert await store.login_attempt("ana", "10.0.0.2", **limits) == 0


async def test_revocations_travel_over_sharded_pubsub_on_the_slots_node(client: RedisClient) -> None:
    store = AccountStore(client, SPACE)
    heard: asyncio.Queue[Revocation] = asyncio.Queue()
    feed = RevocationFeed(client, store.revoked_channel, heard.put_nowait)
    await feed.start()
    try:
        await asyncio.wait_for(feed.ready.wait(), 5)
        owner = await endpoint_for(client, store.revoked_channel)
        assert command(owner.port, "PUBSUB", "SHARDNUMSUB", store.revoked_channel).endswith(b":1\r\n")
        await store.revoke_sessions("ana")
        assert await asyncio.wait_for(heard.get(), 5) == Revocation("ana", None)
    finally:
        await feed.stop()


async def test_call_presence_sweeps_after_an_outage_on_cluster(client: RedisClient) -> None:
    presence = Presence(client, SPACE)
    call = CallRef("s1", "t1", "a1")
    await presence.start(call, customer_connected=True)
    sweep = {"stale_s": 0.5, "grace_s": 60.0, "outage_gap_s": 0.4}
    await presence.sweep(**sweep)
    await asyncio.sleep(0.6)  # nobody vouched or swept: on its own, the customer would be stale now
    assert (await presence.sweep(**sweep)).gone == ()  # but a gap sets the floor
    for _ in range(40):  # sweeping on, nobody vouching: gone a stale time after the floor
        await asyncio.sleep(0.1)
        gone = (await presence.sweep(**sweep)).gone
        if gone:
            break
    assert set(gone) == {(call, Role.AGENT), (call, Role.CUSTOMER)}
