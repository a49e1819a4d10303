"""A simulated day against the real queue, on a compressed clock.

    python -m benchmarks.queue_sim [--seed N] [--hours H]     (a private redis-server, or SIGNLINK_REDIS_URL)

Discrete-event simulation: the queue's clock (ManualClock) jumps from event to event, every queue
operation is the real Lua script on a real Redis, and the simulation learns what the queue did (offers
made by any script, expiries, auto-away) only by reading the queue's event stream, as the web layer will.

The day, 08:00-20:00: Poisson arrivals with a midday peak (thinning), 4 sign languages and 6 topics in
unequal shares, three classes; exponential patience (a customer still waiting leaves); exponential
handling time by topic, then wrap-up; agents on three overlapping shifts with mixed skills (one or two
languages, some or all topics), who take 2-8 s to answer an offer, now and then decline or miss one
(misses run into the queue's timeout, retry pause and auto-away; an agent sent away returns a minute
later). Customers do not drop their connection here (heartbeat grace set beyond the day).

Figures: service level (answered within 30 s and 120 s, of all who joined), abandonment, and the error
of the wait announced at joining against the wait each served customer actually had (median absolute
percentage error), for the queue's estimator (estimator.py: number ahead, agents able to serve, their
service rate, abandonment) beside two delay-history baselines in the same run: the moving average of the
last 20 waits in the customer's queue (as Asterisk announces) and LES, the wait of the last customer to
enter service from that queue. The JSON summary is the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import math
import random
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from benchmarks.queue import redis_for_bench
from signlink.config import Settings
from signlink.errors import Conflict, NotFound
from signlink.queue.clock import ManualClock
from signlink.queue.errors import NotServed
from signlink.queue.events import EventType, QueueEvent
from signlink.queue.models import AgentStatus, EndedBy, JoinRequest
from signlink.queue.store import QueueStore

DAY_START = 1_800_000_000.0 + 8 * 3600  # 08:00 on a simulated day
LANG_SHARE = {"CSL": 0.45, "ASL": 0.25, "BSL": 0.20, "HKSL": 0.10}
TOPIC_SHARE = {
    "phone": 0.30,
    "tablet": 0.12,
    "wearable": 0.10,
    "pc": 0.20,
    "smart_home": 0.13,
    "repair": 0.15,
}
HANDLE_MEAN_S = {"phone": 330, "tablet": 390, "wearable": 270, "pc": 510, "smart_home": 450, "repair": 210}
CLASS_SHARE = {"emergency": 0.02, "callback": 0.08, "normal": 0.90}
PATIENCE_MEAN_S = 300.0
WRAP_UP_S = (20.0, 70.0)
ANSWER_S = (2.0, 8.0)
P_DECLINE, P_NO_ANSWER = 0.03, 0.02
AWAY_RETURN_S = 60.0
# (start hour, end hour, agents per language) for the three shifts
SHIFTS = (
    (8, 14, {"CSL": 9, "ASL": 5, "BSL": 4, "HKSL": 2}),
    (10, 18, {"CSL": 9, "ASL": 5, "BSL": 4, "HKSL": 2}),
    (14, 20, {"CSL": 9, "ASL": 5, "BSL": 4, "HKSL": 2}),
)
HISTORY = 20


def arrival_rate(t: float) -> float:
    """Customers per second, t seconds after 08:00: a base load and a peak around 13:00."""
    hours = t / 3600.0
    return 0.035 + 0.055 * math.exp(-(((hours - 5.0) / 1.6) ** 2) / 2)


def pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


@dataclass
class Customer:
    ticket: str
    pair: str
    language: str
    joined: float
    estimate: float | None
    moving_average: float | None
    les: float | None
    queued: bool  # not offered at once: waited in the queue for an agent
    waited: float | None = None  # set when served
    abandoned: bool = False


@dataclass
class SimAgent:
    id: str
    end: float
    status: AgentStatus = AgentStatus.OFFLINE
    leaving: bool = False


@dataclass
class History:
    """Completed waits per queue, for the delay-history baselines."""

    recent: dict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=HISTORY))
    )

    def add(self, key: str, waited: float) -> None:
        self.recent[key].append(waited)

    def moving_average(self, key: str) -> float | None:
        values = self.recent.get(key)
        return statistics.fmean(values) if values else None

    def last(self, key: str) -> float | None:
        values = self.recent.get(key)
        return values[-1] if values else None


class Day:
    def __init__(
        self, store: QueueStore, clock: ManualClock, rng: random.Random, hours: float, staffing: float
    ) -> None:
        self.store, self.clock, self.rng = store, clock, rng
        self.staffing = staffing
        self.last_op = DAY_START
        self.end = DAY_START + hours * 3600
        self.heap: list[tuple[float, int, Callable[[], Any]]] = []
        self.seq = itertools.count()
        self.customers: dict[str, Customer] = {}
        self.agents: dict[str, SimAgent] = {}
        self.history = History()
        self.by_language = History()
        self.last_event = "0-0"
        self.turned_away = 0
        self.ops = 0

    def at(self, t: float, action: Callable[[], Any]) -> None:
        heapq.heappush(self.heap, (t, next(self.seq), action))

    # -- the world -------------------------------------------------------------------------------------

    def plan(self) -> None:
        n = 0
        for start, stop, staff in SHIFTS:
            for lang, count in staff.items():
                for _ in range(round(count * self.staffing)):
                    n += 1
                    langs = [lang]
                    if self.rng.random() < 0.2:
                        langs.append(pick(self.rng, {k: v for k, v in LANG_SHARE.items() if k != lang}))
                    topics = list(TOPIC_SHARE)
                    if self.rng.random() < 0.5:
                        topics = self.rng.sample(topics, self.rng.randint(3, 5))
                    agent = SimAgent(f"agent-{n:03d}", DAY_START + (stop - 8) * 3600)
                    self.agents[agent.id] = agent
                    begin = DAY_START + (start - 8) * 3600
                    self.at(begin, partial(self.shift_starts, agent, langs, topics))
                    self.at(agent.end, partial(self.shift_ends, agent))
        t, peak = 0.0, 0.09
        horizon = self.end - DAY_START
        while True:  # non-homogeneous Poisson arrivals by thinning
            t += self.rng.expovariate(peak)
            if t >= horizon:
                break
            if self.rng.random() < arrival_rate(t) / peak:
                self.at(DAY_START + t, self.arrive)

    async def shift_starts(self, agent: SimAgent, langs: list[str], topics: list[str]) -> None:
        await self.op(self.store.agent_login(agent.id, langs, topics, ready=True))

    async def shift_ends(self, agent: SimAgent) -> None:
        agent.leaving = True
        if agent.status in (AgentStatus.AVAILABLE, AgentStatus.AWAY):
            await self.op(self.store.agent_logout(agent.id))

    async def arrive(self) -> None:
        lang, topic = pick(self.rng, LANG_SHARE), pick(self.rng, TOPIC_SHARE)
        request = JoinRequest(f"sim-customer-{next(self.seq):08d}", lang, topic, pick(self.rng, CLASS_SHARE))
        try:
            placed = await self.op(self.store.join(request))
        except NotServed:
            self.turned_away += 1
            return
        ticket = placed.ticket.id
        position = await self.op(self.store.position(ticket))
        pair = f"{lang}/{topic}"
        self.customers[ticket] = Customer(
            ticket=ticket,
            pair=pair,
            language=lang,
            joined=self.clock.t,
            estimate=position.estimated_wait_s,
            moving_average=self.history.moving_average(pair) or self.by_language.moving_average(lang),
            les=self.history.last(pair) or self.by_language.last(lang),
            queued=placed.offer is None,
        )
        self.at(self.clock.t + self.rng.expovariate(1 / PATIENCE_MEAN_S), lambda: self.give_up(ticket))

    async def give_up(self, ticket: str) -> None:
        customer = self.customers[ticket]
        if customer.waited is None and not customer.abandoned:
            await self.op(self.store.leave(ticket))

    async def answer(self, agent: str, offer: str) -> None:
        roll = self.rng.random()
        if roll < P_NO_ANSWER:
            return  # the deadline passes; the sweep below expires it
        try:
            if roll < P_NO_ANSWER + P_DECLINE:
                await self.op(self.store.decline(agent, offer))
            else:
                await self.op(self.store.accept(agent, offer))
        except (Conflict, NotFound):
            pass  # the customer left meanwhile

    async def hang_up(self, agent: str, session: str) -> None:
        await self.op(self.store.end_session(session, by=EndedBy.AGENT))
        self.at(self.clock.t + self.rng.uniform(*WRAP_UP_S), lambda: self.after_wrap_up(agent))

    async def after_wrap_up(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        if agent.leaving:
            await self.op(self.store.agent_logout(agent_id))
        else:
            await self.op(self.store.agent_ready(agent_id))

    async def come_back(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        if agent.status is AgentStatus.AWAY and not agent.leaving:
            await self.op(self.store.agent_ready(agent_id))

    async def sweep(self) -> None:
        await self.op(self.store.sweep())

    # -- the queue's side, seen through its events ----------------------------------------------------

    async def op(self, call: Any) -> Any:
        self.ops += 1
        self.last_op = self.clock.t
        result = await call
        for event in await self.store.read_events(self.last_event, count=10_000):
            self.last_event = event.id
            self.on_event(event)
        return result

    def on_event(self, e: QueueEvent) -> None:
        now = self.clock.t
        if e.type is EventType.OFFER_CREATED and e.agent_id and e.offer_id:
            agent, offer = e.agent_id, e.offer_id
            self.at(now + self.rng.uniform(*ANSWER_S), lambda: self.answer(agent, offer))
            self.at((e.deadline or now) + 0.001, self.sweep)
        elif e.type is EventType.OFFER_ACCEPTED and e.ticket_id and e.agent_id and e.session_id:
            customer = self.customers[e.ticket_id]
            customer.waited = e.waited_s
            self.history.add(customer.pair, customer.waited or 0.0)
            self.by_language.add(customer.language, customer.waited or 0.0)
            topic = customer.pair.split("/")[1]
            agent, session = e.agent_id, e.session_id
            handle = self.rng.expovariate(1 / HANDLE_MEAN_S[topic])
            self.at(now + handle, lambda: self.hang_up(agent, session))
        elif e.type in (EventType.OFFER_DECLINED, EventType.OFFER_EXPIRED):
            self.at(now + self.store.settings.offer_retry_s + 0.001, self.sweep)
        elif e.type is EventType.TICKET_ABANDONED and e.ticket_id:
            self.customers[e.ticket_id].abandoned = True
        elif e.type is EventType.AGENT_STATUS and e.agent_id and e.status:
            sim_agent = self.agents[e.agent_id]
            sim_agent.status = AgentStatus(e.status)
            if e.reason == "missed_offers":
                self.at(now + AWAY_RETURN_S, partial(self.come_back, sim_agent.id))
            if sim_agent.leaving and sim_agent.status in (AgentStatus.AVAILABLE, AgentStatus.AWAY):
                self.at(now, partial(self.after_wrap_up, sim_agent.id))

    async def run(self) -> None:
        self.plan()
        while self.heap:
            t, _, action = heapq.heappop(self.heap)
            if t > self.end + 4 * 3600:  # the last calls finish; nobody new arrives after 20:00
                break
            self.clock.set(max(self.clock.t, t))
            await action()


def mdape(pairs: list[tuple[float | None, float | None]]) -> float:
    """Median absolute percentage error of predictions against actual waits."""
    errors = [abs(est - act) / act for est, act in pairs if est is not None and act]
    return statistics.median(errors) * 100 if errors else float("nan")


def report(day: Day, wall_s: float) -> dict[str, Any]:
    customers = list(day.customers.values())
    served = [c for c in customers if c.waited is not None]
    abandoned = [c for c in customers if c.abandoned]
    joined = len(customers)
    sl30 = sum(1 for c in served if (c.waited or 0) <= 30) / joined
    sl120 = sum(1 for c in served if (c.waited or 0) <= 120) / joined
    waits = sorted(c.waited or 0.0 for c in served)
    sim_s = day.last_op - DAY_START
    speed = sim_s / wall_s
    print(f"simulated {sim_s / 3600:.1f} h in {wall_s:.1f} s ({speed:.0f}x real time), {day.ops} operations")
    print(
        f"customers: {joined} joined, {len(served)} served, {len(abandoned)} abandoned "
        f"({len(abandoned) / joined:.1%}), {day.turned_away} told no agent serves their language/topic now"
    )
    p90 = waits[int(0.9 * len(waits))]
    print(
        f"agents: {len(day.agents)} over 3 shifts; wait of the served: "
        f"median {statistics.median(waits):.0f} s, 90th percentile {p90:.0f} s, max {waits[-1]:.0f} s"
    )
    print(f"service level: {sl30:.1%} answered within 30 s, {sl120:.1%} within 120 s (of all who joined)")
    # Compared on the customers all three announced a wait to (a baseline with no history yet has none).
    rated = [
        c for c in served if c.estimate is not None and c.moving_average is not None and c.les is not None
    ]
    groups = {"all served": rated, "who queued": [c for c in rated if c.queued]}
    errors: dict[str, dict[str, float]] = {}
    print("wait announced at joining vs actual wait, median absolute percentage error:")
    print(f"  {'':12} {'n':>5} {'estimator':>10} {'moving avg':>11} {'LES':>7}")
    for name, group in groups.items():
        row = {
            "n": len(group),
            "estimator": mdape([(c.estimate, c.waited) for c in group]),
            "moving_average": mdape([(c.moving_average, c.waited) for c in group]),
            "les": mdape([(c.les, c.waited) for c in group]),
        }
        errors[name.replace(" ", "_")] = row
        est, ma, les = row["estimator"], row["moving_average"], row["les"]
        print(f"  {name:12} {len(group):5d} {est:9.1f}% {ma:10.1f}% {les:6.1f}%")
    main_row = errors["all_served"]
    met = main_row["estimator"] <= main_row["moving_average"] / 2 and main_row["estimator"] < main_row["les"]
    print(f"target (estimator <= half the moving average's, and below LES's): {'met' if met else 'MISSED'}")
    return {
        "benchmark": "queue_sim",
        "hours": sim_s / 3600,
        "speedup": sim_s / wall_s,
        "agents": len(day.agents),
        "joined": joined,
        "served": len(served),
        "abandoned": len(abandoned),
        "abandonment_rate": len(abandoned) / joined,
        "turned_away": day.turned_away,
        "service_level_30s": sl30,
        "service_level_120s": sl120,
        "median_wait_s": statistics.median(waits),
        "mdape_pct": errors,
        "target_met": met,
    }


async def main(seed: int, hours: float, staffing: float) -> None:
    async with redis_for_bench() as (redis, prefix):
        settings = Settings(redis_prefix=prefix, heartbeat_grace_s=10 * 86400.0)
        clock = ManualClock(DAY_START)
        store = QueueStore(redis, settings, clock=clock)
        day = Day(store, clock, random.Random(seed), hours, staffing)
        t0 = time.perf_counter()
        await day.run()
        summary = report(day, time.perf_counter() - t0)
        summary.update(seed=seed, staffing=staffing)
        print(json.dumps(summary))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=12.0)
    parser.add_argument("--staffing", type=float, default=1.0, help="scale every shift's head count")
    cli = parser.parse_args()
    asyncio.run(main(cli.seed, cli.hours, cli.staffing))
