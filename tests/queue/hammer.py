"""A worker process for the concurrency test: many asyncio clients doing random queue operations.

Runs in its own interpreter (multiprocessing "spawn"), with its own Redis connections and its own
sweeper, on Redis' clock, like one of several signlink processes sharing a Redis.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from signlink.config import Settings
from signlink.errors import BadRequest, Conflict, Forbidden, NotFound
from signlink.queue.models import EndedBy, JoinRequest
from signlink.queue.store import QueueStore
from signlink.queue.sweeper import Sweeper
from signlink.redisio import connect

AGENTS = [f"agent-{i:02d}" for i in range(10)]
SILENT = set(AGENTS[7:])  # never answer an offer: their offers time out and they go away
LANGS = ("ASL", "BSL")
TOPICS = ("phone", "pc")

# What a correct queue may answer to a random operation; anything else is a failure.
EXPECTED = (Conflict, NotFound, Forbidden)


def hammer_settings(url: str) -> Settings:
    return Settings(
        redis_url=url,
        redis_prefix="hammer",
        sign_languages=LANGS,
        topics=TOPICS,
        offer_timeout_s=0.3,
        heartbeat_grace_s=1.0,
        offer_retry_s=0.1,
        sweep_interval_s=0.05,
    )


@dataclass
class Report:
    ops: int = 0
    failures: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)


async def _client(store: QueueStore, rng: random.Random, until: float, report: Report, tag: str) -> None:
    mine: list[str] = []
    n = 0
    while time.monotonic() < until:
        n += 1
        agent = rng.choice(AGENTS)
        roll = rng.random()
        try:
            if roll < 0.22:
                placed = await store.join(
                    JoinRequest(
                        f"{tag}-customer-{n:06d}",
                        rng.choice(LANGS),
                        rng.choice(TOPICS),
                        rng.choice(("emergency", "callback", "normal", "normal")),
                    )
                )
                mine.append(placed.ticket.id)
                report.joined.append(placed.ticket.id)
            elif roll < 0.30 and mine:
                await store.leave(rng.choice(mine))
            elif roll < 0.40 and mine:
                await store.heartbeat(rng.choice(mine))
            elif roll < 0.47:
                langs = rng.sample(LANGS, rng.randint(1, 2))
                await store.agent_login(
                    agent, langs, rng.sample(TOPICS, rng.randint(1, 2)), ready=rng.random() < 0.5
                )
            elif roll < 0.57:
                await store.agent_ready(agent)
            elif roll < 0.60 and agent not in SILENT:
                await store.agent_away(agent)
            elif roll < 0.62 and agent not in SILENT:
                await store.agent_logout(agent)
            else:
                await _call_op(store, rng, roll, agent, mine)
        except EXPECTED:
            pass
        except BadRequest as exc:
            if "already in" not in str(exc):
                report.failures.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            report.failures.append(f"{type(exc).__name__}: {exc}")
        report.ops += 1


async def _call_op(store: QueueStore, rng: random.Random, roll: float, agent: str, mine: list[str]) -> None:
    """_client's offer, session, transfer and heartbeat operations (apart to keep _client simple)."""
    if roll < 0.78:
        offer = (await store.get_agent(agent)).offer_id
        if offer and agent not in SILENT:
            await store.accept(agent, offer)
    elif roll < 0.83:
        offer = (await store.get_agent(agent)).offer_id
        if offer and agent not in SILENT:
            await store.decline(rng.choice([agent, *AGENTS]), offer)
    elif roll < 0.93:
        session = (await store.get_agent(agent)).session_id
        if session:
            await store.end_session(session, by=rng.choice(list(EndedBy)))
    elif roll < 0.96 and mine:
        await store.transfer(rng.choice(mine), rng.choice(LANGS), rng.choice(TOPICS))
    else:
        await store.agent_heartbeat(agent)


async def run(url: str, seed: int, seconds: float, clients: int) -> Report:
    settings = hammer_settings(url)
    redis = connect(url, max_connections=clients + 2)
    store = QueueStore(redis, settings)
    sweeper = Sweeper(store, settings.sweep_interval_s)
    sweeper.start()
    report = Report()
    until = time.monotonic() + seconds
    try:
        await asyncio.gather(
            *(
                _client(store, random.Random(seed * 100 + i), until, report, f"s{seed}c{i}")
                for i in range(clients)
            )
        )
    finally:
        await sweeper.stop()
        await redis.aclose()
    return report


def main(url: str, seed: int, seconds: float, clients: int) -> Report:
    return asyncio.run(run(url, seed, seconds, clients))
