"""Property-based: random sequences of queue operations keep every invariant, and each routing decision
is the one the rules demand (best ticket for a ready agent, longest-idle agent for a joining ticket)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Coroutine
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from signlink.config import Settings
from signlink.errors import Conflict, Forbidden, NotFound
from signlink.queue.audit import check
from signlink.queue.clock import ManualClock
from signlink.queue.errors import NotServed
from signlink.queue.models import EndedBy, JoinRequest
from signlink.queue.store import QueueStore
from signlink.redisio import connect
from tests.queue.conftest import T0
from tests.support.redis_proc import RedisProcess

T = TypeVar("T")
LANGS = ("ASL", "BSL")
TOPICS = ("phone", "pc")
AGENTS = st.sampled_from(["a0", "a1", "a2", "a3"])
_tokens = itertools.count()


def _pairs(flat: Any) -> dict[str, str]:
    items = flat if isinstance(flat, list) else []
    return dict(zip(items[::2], items[1::2], strict=True))


def _agent_record(dump: dict[str, Any], agent: str) -> dict[str, Any] | None:
    raw = _pairs(dump["agents"]).get(agent)
    return json.loads(raw) if raw else None


def best_ticket(dump: dict[str, Any], agent: dict[str, Any]) -> str | None:
    skills = {f"{lang}/{topic}" for lang in agent["langs"].split(",") for topic in agent["topics"].split(",")}
    heads = []
    for p in dump["pairs"]:
        if p["name"] in skills:
            heads += [(float(score), tid) for tid, score in _pairs(p["wait"]).items()]
    return min(heads)[1] if heads else None


def longest_idle(dump: dict[str, Any], pair: str) -> str | None:
    for p in dump["pairs"]:
        if p["name"] == pair:
            idle = [(float(since), aid) for aid, since in _pairs(p["idle"]).items()]
            return min(idle)[1] if idle else None
    return None


class QueueMachine(RuleBasedStateMachine):
    url: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.redis = connect(self.url)
        self.clock = ManualClock(T0)
        config = Settings(sign_languages=LANGS, topics=TOPICS, redis_prefix="hyp", offer_retry_s=5.0)
        self.store = QueueStore(self.redis, config, clock=self.clock)
        self.run(self.redis.flushdb())
        self.tickets: list[str] = []

    def run(self, aw: Awaitable[T]) -> T:
        return self.loop.run_until_complete(aw)

    def attempt(self, coro: Coroutine[Any, Any, T]) -> T | None:
        try:
            return self.run(coro)
        except (Conflict, NotFound, Forbidden):
            return None

    def teardown(self) -> None:
        self.run(self.redis.aclose())
        self.loop.close()

    @initialize()
    def open_the_day(self) -> None:
        # Agents idle since different times, overlapping skills: routing choices to get wrong.
        self.run(self.store.agent_login("a0", ["ASL"], ["phone", "pc"], ready=True))
        self.clock.advance(1)
        self.run(self.store.agent_login("a1", ["ASL", "BSL"], ["phone"], ready=True))
        self.clock.advance(1)
        self.run(self.store.agent_login("a2", ["ASL"], ["phone"], ready=True))
        self.run(self.store.agent_login("a3", ["ASL", "BSL"], ["phone", "pc"]))

    @rule(
        lang=st.sampled_from(LANGS),
        topic=st.sampled_from(TOPICS),
        cls=st.sampled_from(["emergency", "normal"]),
    )
    def join(self, lang: str, topic: str, cls: str) -> None:
        before = self.run(self.store.dump())
        request = JoinRequest(f"hypothesis-token-{next(_tokens):06d}", lang, topic, cls)
        try:
            placed = self.run(self.store.join(request))
        except NotServed:
            assert int(_pairs(before["cap"]).get(f"O:{lang}/{topic}", 0)) == 0
            return
        self.tickets.append(placed.ticket.id)
        assert (placed.offer.agent_id if placed.offer else None) == longest_idle(before, f"{lang}/{topic}")
        self.clock.advance(1)

    @rule(
        agent=AGENTS,
        langs=st.sets(st.sampled_from(LANGS), min_size=1),
        topics=st.sets(st.sampled_from(TOPICS), min_size=1),
        ready=st.booleans(),
    )
    def login(self, agent: str, langs: set[str], topics: set[str], ready: bool) -> None:
        self.attempt(self.store.agent_login(agent, langs, topics, ready=ready))

    @rule(agent=AGENTS)
    def ready(self, agent: str) -> None:
        before = self.run(self.store.dump())
        record = _agent_record(before, agent)
        update = self.attempt(self.store.agent_ready(agent))
        if update is None or record is None:
            return
        routed = record["status"] in ("away", "wrap_up") or record["retry"] > 0
        expected = best_ticket(before, record) if routed else None
        assert (update.offer.ticket_id if update.offer else None) == expected

    @rule(agent=AGENTS)
    def away(self, agent: str) -> None:
        self.attempt(self.store.agent_away(agent))

    @rule(agent=AGENTS)
    def logout(self, agent: str) -> None:
        self.attempt(self.store.agent_logout(agent))

    @rule(agent=AGENTS, other=AGENTS)
    def accept(self, agent: str, other: str) -> None:
        found = self.attempt(self.store.get_agent(agent))
        if found and found.offer_id:
            self.attempt(self.store.accept(other, found.offer_id))

    @rule(lang=st.sampled_from(LANGS), topic=st.sampled_from(TOPICS))
    def join_and_answer(self, lang: str, topic: str) -> None:
        self.join(lang, topic, "normal")
        for agent in ("a0", "a1", "a2", "a3"):
            self.accept(agent, agent)

    @rule(agent=AGENTS)
    def decline(self, agent: str) -> None:
        found = self.attempt(self.store.get_agent(agent))
        if found and found.offer_id:
            self.run(self.store.decline(agent, found.offer_id))

    @rule(agent=AGENTS, by=st.sampled_from(list(EndedBy)))
    def end(self, agent: str, by: EndedBy) -> None:
        found = self.attempt(self.store.get_agent(agent))
        if found and found.session_id:
            self.run(self.store.end_session(found.session_id, by=by, agent_id=agent))

    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        if self.tickets:
            self.attempt(self.store.leave(data.draw(st.sampled_from(self.tickets))))

    @rule(data=st.data(), lang=st.sampled_from(LANGS), topic=st.sampled_from(TOPICS), agent=AGENTS)
    def transfer(self, data: st.DataObject, lang: str, topic: str, agent: str) -> None:
        if self.tickets:
            tid = data.draw(st.sampled_from(self.tickets))
            try:
                self.run(self.store.transfer(tid, lang, topic, agent_id=agent))
            except (Conflict, NotFound, Forbidden):
                pass
            except Exception as exc:  # same queue: a clear BadRequest
                assert "already in" in str(exc)

    @rule(seconds=st.sampled_from([1.0, 6.0, 21.0, 31.0]), keep_alive=st.booleans())
    def time_passes(self, seconds: float, keep_alive: bool) -> None:
        if keep_alive:
            for tid in self.tickets:
                self.attempt(self.store.heartbeat(tid))
            for agent in ("a0", "a1", "a2", "a3"):
                self.attempt(self.store.agent_heartbeat(agent))
        self.clock.advance(seconds)
        self.run(self.store.sweep())

    @invariant()
    def every_invariant_holds(self) -> None:
        problems = check(self.run(self.store.dump()))
        assert problems == [], problems


@pytest.mark.slow
def test_random_operations_keep_the_queue_consistent(redis_server: RedisProcess) -> None:
    QueueMachine.url = redis_server.url
    run_state_machine_as_test(
        QueueMachine,
        settings=settings(
            max_examples=75,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
