"""The queue's invariants, checked over one atomic dump (`QueueStore.dump`).

Pure: takes the dump, returns what is wrong (empty when all holds). The tests run it after every
hammering; an operator can run it against a live Redis (it reads everything: O(queue size)).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signlink.queue.events import EventType, QueueEvent
from signlink.queue.models import (
    AGENT_TRANSITIONS,
    ONLINE_STATUSES,
    SERVING_STATUSES,
    AgentStatus,
    TicketState,
)

Record = dict[str, Any]


def _hash(flat: Any) -> dict[str, str]:
    items = flat if isinstance(flat, list) else []
    return dict(zip(items[::2], items[1::2], strict=True))


def _zset(flat: Any) -> dict[str, float]:
    return {k: float(v) for k, v in _hash(flat).items()}


def _records(flat: Any) -> dict[str, Record]:
    return {k: json.loads(v) for k, v in _hash(flat).items()}


def _skill_pairs(agent: Record) -> list[str]:
    langs = [x for x in agent["langs"].split(",") if x]
    topics = [x for x in agent["topics"].split(",") if x]
    return [f"{lang}/{topic}" for lang in langs for topic in topics]


def _nonzero(counts: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in counts.items() if int(v) != 0}


@dataclass(frozen=True)
class _Dump:
    """The dump parsed once; every check below reads from it."""

    tickets: dict[str, Record]
    agents: dict[str, Record]
    offers: dict[str, Record]
    sessions: dict[str, str]
    offer_due: dict[str, float]
    seen: dict[str, float]
    done: dict[str, float]
    retry: dict[str, float]
    queues: dict[str, tuple[dict[str, float], dict[str, float], dict[str, float]]]


def _parse(dump: Mapping[str, Any]) -> _Dump:
    return _Dump(
        tickets=_records(dump["tickets"]),
        agents=_records(dump["agents"]),
        offers=_records(dump["offers"]),
        sessions=_hash(dump["sessions"]),
        offer_due=_zset(dump["offer_due"]),
        seen=_zset(dump["ticket_seen"]),
        done=_zset(dump["done"]),
        retry=_zset(dump["retry"]),
        queues={p["name"]: (_zset(p["wait"]), _zset(p["age"]), _zset(p["idle"])) for p in dump["pairs"]},
    )


def check(dump: Mapping[str, Any]) -> list[str]:
    d = _parse(dump)
    errors = _check_queues(d)
    for tid, t in d.tickets.items():
        errors += _check_ticket(d, tid, t)
    errors += _check_offers(d)
    for aid, a in d.agents.items():
        errors += _check_agent(d, aid, a)
    errors += _check_counters(dump, d.agents.values())
    return errors


def _check_queues(d: _Dump) -> list[str]:
    errors: list[str] = []
    err = errors.append
    for name, (wait, age, idle) in d.queues.items():
        for tid in wait:
            t = d.tickets.get(tid)
            if not t or t["state"] != TicketState.WAITING or f"{t['lang']}/{t['topic']}" != name:
                err(f"{tid} in wait:{name} but is {t and t['state']} of {t and t['lang']}/{t and t['topic']}")
        for tid in age:
            t = d.tickets.get(tid)
            if not t or t["state"] not in (TicketState.WAITING, TicketState.OFFERED):
                err(f"{tid} in age:{name} but is {t and t['state']}")
        for aid in idle:
            a = d.agents.get(aid)
            if not a or a["status"] != AgentStatus.AVAILABLE or name not in _skill_pairs(a):
                err(f"agent {aid} idle in {name} but is {a and a['status']}")
    return errors


def _check_ticket(d: _Dump, tid: str, t: Record) -> list[str]:
    errors: list[str] = []
    err = errors.append
    state, pair = t["state"], f"{t['lang']}/{t['topic']}"
    in_wait = [name for name, (wait, _, _) in d.queues.items() if tid in wait]
    in_age = [name for name, (_, age, _) in d.queues.items() if tid in age]
    if state == TicketState.WAITING:
        if in_wait != [pair]:
            err(f"waiting {tid} is in wait queues {in_wait}, expected [{pair}]")
        elif d.queues[pair][0][tid] != float(t["score"]):
            err(f"waiting {tid} has score {d.queues[pair][0][tid]} instead of its own {t['score']}")
    elif in_wait:
        err(f"{state} {tid} is still in wait queues {in_wait}")
    active = state in (TicketState.WAITING, TicketState.OFFERED)
    if active and (in_age != [pair] or tid not in d.seen):
        err(f"{state} {tid}: age queues {in_age}, heartbeat tracked {tid in d.seen}")
    if not active and (in_age or tid in d.seen):
        err(f"{state} {tid} still in age queues {in_age} or heartbeat set")
    if state == TicketState.OFFERED:
        errors += _check_offered_ticket(d, tid, t)
    elif t["offer"]:
        err(f"{state} {tid} still points at offer {t['offer']}")
    if state == TicketState.IN_CALL:
        errors += _check_in_call_ticket(d, tid, t)
    if state in (TicketState.ENDED, TicketState.ABANDONED) and tid not in d.done:
        err(f"{state} {tid} is not scheduled for purging")
    return errors


def _check_offered_ticket(d: _Dump, tid: str, t: Record) -> list[str]:
    errors = []
    offer = d.offers.get(t["offer"])
    agent = d.agents.get(t["agent"])
    if not offer or offer["ticket"] != tid or offer["agent"] != t["agent"]:
        errors.append(f"offered {tid} has no matching offer {t['offer']}")
    if not agent or agent["status"] != AgentStatus.ON_OFFER or agent["offer"] != t["offer"]:
        errors.append(f"offered {tid}: agent {t['agent']} is not on its offer")
    return errors


def _check_in_call_ticket(d: _Dump, tid: str, t: Record) -> list[str]:
    errors = []
    agent = d.agents.get(t["agent"])
    if d.sessions.get(t["session"]) != tid:
        errors.append(f"in-call {tid}: session {t['session']} not mapped to it")
    if not agent or agent["status"] != AgentStatus.IN_CALL or agent["session"] != t["session"]:
        errors.append(f"in-call {tid}: agent {t['agent']} is not in its session")
    return errors


def _check_offers(d: _Dump) -> list[str]:
    per_ticket = Counter(o["ticket"] for o in d.offers.values())
    per_agent = Counter(o["agent"] for o in d.offers.values())
    errors = [f"ticket {t} has {n} open offers" for t, n in per_ticket.items() if n > 1]
    errors += [f"agent {a} has {n} open offers" for a, n in per_agent.items() if n > 1]
    for oid, o in d.offers.items():
        # JSON keeps ~14 significant digits; the sorted set the exact double.
        if abs(d.offer_due.get(oid, -1.0) - float(o["deadline"])) > 1e-3:
            errors.append(f"offer {oid} deadline not scheduled")
    errors += [f"due offer {oid} does not exist" for oid in d.offer_due if oid not in d.offers]
    return errors


def _check_agent(d: _Dump, aid: str, a: Record) -> list[str]:
    errors: list[str] = []
    err = errors.append
    status = a["status"]
    if status == AgentStatus.ON_OFFER:
        open_offer = d.offers.get(a["offer"])
        if not open_offer or open_offer["agent"] != aid:
            err(f"agent {aid} on offer without offer {a['offer']}")
    elif a["offer"]:
        err(f"{status} agent {aid} still points at offer {a['offer']}")
    idle_in = {name for name, (_, _, idle) in d.queues.items() if aid in idle}
    expected = {p for p in _skill_pairs(a) if p in d.queues}
    pausing = status == AgentStatus.AVAILABLE and a["retry"] > 0
    if pausing != (aid in d.retry):
        err(f"agent {aid} retry pause {a['retry']} vs scheduled {aid in d.retry}")
    if status == AgentStatus.AVAILABLE and not pausing and idle_in != expected:
        err(f"available agent {aid} idle in {sorted(idle_in)}, expected {sorted(expected)}")
    if (status != AgentStatus.AVAILABLE or pausing) and idle_in:
        err(f"{status} agent {aid} is idle in {sorted(idle_in)}")
    if status == AgentStatus.IN_CALL:
        t = d.tickets.get(d.sessions.get(a["session"], ""))
        if not t or t["state"] != TicketState.IN_CALL or t["agent"] != aid:
            err(f"agent {aid} in call without an in-call ticket (session {a['session']})")
    return errors


def _check_counters(dump: Mapping[str, Any], agents: Iterable[Record]) -> list[str]:
    counts: Counter[str] = Counter()
    cap: Counter[str] = Counter()
    overlap: Counter[str] = Counter()
    for a in agents:
        counts[a["status"]] += 1
        status = AgentStatus(a["status"])
        pairs = _skill_pairs(a)
        if status in ONLINE_STATUSES:
            for lang in (x for x in a["langs"].split(",") if x):
                cap[f"L:{lang}"] += 1
            for p in pairs:
                cap[f"O:{p}"] += 1
            for p, q in ((p, q) for p in pairs for q in pairs if p != q):
                overlap[f"{p}|{q}"] += 1
        if status in SERVING_STATUSES:
            for p in pairs:
                cap[f"S:{p}"] += 1
    errors = []
    for name, expected, stored in (
        ("agent counts", counts, _hash(dump["agent_counts"])),
        ("capacity", cap, _hash(dump["cap"])),
        ("overlap", overlap, _hash(dump["overlap"])),
    ):
        if _nonzero(expected) != _nonzero(stored):
            errors.append(f"{name} drifted: stored {_nonzero(stored)} vs actual {_nonzero(expected)}")
    return errors


def disallowed_transitions(statuses: Iterable[tuple[str, str]]) -> list[str]:
    """(previous, new) pairs that the agent state machine does not allow."""
    return [
        f"{prev} -> {new}"
        for prev, new in statuses
        if AgentStatus(new) not in AGENT_TRANSITIONS[AgentStatus(prev)]
    ]


_OFFER_CLOSED = {
    EventType.OFFER_ACCEPTED,
    EventType.OFFER_DECLINED,
    EventType.OFFER_EXPIRED,
    EventType.OFFER_CANCELLED,
}


def replay_offers(events: Iterable[QueueEvent]) -> list[str]:
    """Walk the event stream: at no moment two open offers for one ticket or one agent."""
    problems = []
    open_by_ticket: dict[str, str] = {}
    open_by_agent: dict[str, str] = {}
    for e in events:
        if e.type is EventType.OFFER_CREATED:
            if not (e.ticket_id and e.agent_id and e.offer_id):
                problems.append(f"offer event without ticket, agent or offer: {e}")
                continue
            if e.ticket_id in open_by_ticket:
                problems.append(
                    f"{e.ticket_id} offered twice: {open_by_ticket[e.ticket_id]} and {e.offer_id}"
                )
            if e.agent_id in open_by_agent:
                problems.append(f"{e.agent_id} got two offers: {open_by_agent[e.agent_id]} and {e.offer_id}")
            open_by_ticket[e.ticket_id] = open_by_agent[e.agent_id] = e.offer_id
        elif e.type in _OFFER_CLOSED:
            if not (e.ticket_id and e.agent_id):
                problems.append(f"offer end without ticket or agent: {e}")
                continue
            if open_by_ticket.pop(e.ticket_id, None) != e.offer_id:
                problems.append(f"{e.type} of {e.offer_id} that was not open for {e.ticket_id}")
            open_by_agent.pop(e.agent_id, None)
    return problems
