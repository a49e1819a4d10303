"""Two real `signlink serve` processes on one Redis, 50 customers and 20 agents as WebSocket clients
doing random documented operations; the invariants checked from the outside, then over Redis.

Seeded (SIGNLINK_HAMMER_SEED, default 11; the seed is printed and named in every failure). The long
version with faults is benchmarks/soak.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from redis.asyncio import Redis

from signlink.queue.audit import check, replay_offers
from signlink.queue.store import QueueStore
from tests.support.e2e import SignlinkProcess
from tests.support.redis_proc import RedisProcess
from tests.support.staff import PASSWORD, add_account
from tests.support.ws_hammer import LANGS, TOPICS, World, server_settings

SEED = int(os.environ.get("SIGNLINK_HAMMER_SEED", "11"))
CUSTOMERS = 50
AGENTS = 20
SECONDS = 15.0


async def test_two_processes_hammered_over_websockets_keep_every_invariant(
    redis_server: RedisProcess, redis: Redis, tmp_path: Path
) -> None:
    print(f"hammer seed {SEED}")
    settings = server_settings(redis_server.url)
    usernames = [f"agent{i:02d}" for i in range(AGENTS)]
    for name in usernames:
        await add_account(settings, redis, name, languages=LANGS, topics=TOPICS)
    processes = [SignlinkProcess(settings, tmp_path / f"signlink-{i}.log") for i in range(2)]
    world = World([p.start() for p in processes], SEED)
    try:
        await world.login_agents(usernames, PASSWORD)
        world.add_customers(CUSTOMERS)
        await world.run(SECONDS)
        outcome = await world.settle()
    finally:
        await world.close()
        for p in processes:
            p.stop()
    tally = world.tally
    print(f"seed {SEED}: ops {dict(tally.ops)}, refused {dict(tally.refused)}, final {outcome}")
    assert tally.violations == [], f"seed {SEED}: {tally.violations[:10]} (refused {dict(tally.refused)})"
    assert tally.lost == [], f"seed {SEED}: {tally.lost[:10]}"
    # The run did what it is for: many joins, offers, calls, drops and takeovers.
    assert len(tally.joined_at) > CUSTOMERS and len(tally.session_of) > 20, f"seed {SEED}: {outcome}"
    assert tally.ops["takeover"] > 10 and tally.ops["drop"] > 10, f"seed {SEED}: {dict(tally.ops)}"
    assert sum(outcome["waiting"].values()) > 0  # positions were checked on someone

    store = QueueStore(redis, settings)
    dump = await store.dump()
    assert check(dump) == [], f"seed {SEED}"
    assert replay_offers(await store.read_events(count=1_000_000)) == [], f"seed {SEED}"
    # No ticket lost or made twice: Redis holds exactly the tickets the clients were given.
    stored = set(await redis.hkeys(f"{settings.redis_prefix}:queue:tickets"))
    assert {str(t, "utf-8") if isinstance(t, bytes) else t for t in stored} == set(tally.joined_at), (
        f"seed {SEED}"
    )
