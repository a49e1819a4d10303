"""No double offer, no lost ticket: several processes hammering one Redis, then every invariant."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from redis.asyncio import Redis

from signlink.queue.audit import check, disallowed_transitions, replay_offers
from signlink.queue.events import EventType
from signlink.queue.models import TicketState
from signlink.queue.store import QueueStore
from tests.queue import hammer
from tests.support.redis_proc import RedisProcess

PROCESSES = 3
CLIENTS_PER_PROCESS = 6
SECONDS = 4.0


async def test_processes_hammering_the_queue_keep_every_invariant(
    redis_server: RedisProcess, redis: Redis
) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=ctx) as pool:
        loop = asyncio.get_running_loop()
        reports = await asyncio.gather(
            *(
                loop.run_in_executor(pool, hammer.main, redis_server.url, seed, SECONDS, CLIENTS_PER_PROCESS)
                for seed in range(PROCESSES)
            )
        )
    failures = [f for r in reports for f in r.failures]
    assert failures == [], failures[:10]
    joined = [t for r in reports for t in r.joined]
    assert sum(r.ops for r in reports) > 300 and len(joined) > 50

    store = QueueStore(redis, hammer.hammer_settings(redis_server.url))
    await store.sweep(now=None)
    dump = await store.dump()
    assert check(dump) == []
    # No lost ticket: every ticket ever joined is there, in exactly one state.
    tickets = {t.id: t for t in [await store.get_ticket(tid) for tid in joined]}
    assert set(tickets) == set(joined)
    states = Counter(t.state for t in tickets.values())
    assert set(states) <= set(TicketState)
    assert states[TicketState.IN_CALL] + states[TicketState.ENDED] > 0  # the hammer got calls through

    events = await store.read_events(count=1_000_000)
    assert replay_offers(events) == []
    by_agent: dict[str, list[tuple[str, str]]] = {}
    for e in events:
        if e.type is EventType.AGENT_STATUS and e.agent_id:
            by_agent.setdefault(e.agent_id, []).append((e.previous or "", e.status or ""))
    for agent, moves in by_agent.items():
        assert disallowed_transitions(moves) == [], agent
        assert all(a[1] == b[0] for a, b in itertools.pairwise(moves)), agent
