"""What is true about a customer's wait, in words the waiting room can say without guessing.

Pure. From the queue's position of a ticket (place, tickets ahead, agents who can serve it) and the
line's agents and hours, it picks one fact and a range for the wait:
- `no_agents`: nobody for this language/topic is logged in: no estimate at all;
- `away`: agents are logged in but all away: no estimate (their return is not known);
- `busy`: agents work but none is free: the estimate with a range;
- `free`: nobody is ahead and the estimator's own mean is under a minute (agents are finishing often
  enough for it): only then may the page say "less than a minute".
The range is the 10th to 90th percentile of the estimator's own model: with s agents each finishing
at rate mu and k = ahead + 1 departures needed, the time to an agent is Erlang(k, s*mu), scaled to
the estimator's mean (which also counts abandonment), plus the pick-up time.
Closing: customers already waiting are served after closing; `after_close` says the estimate runs
past it, so the page says "we close in N min, you are still served".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

FREE_S = 60.0


class Fact(StrEnum):
    NO_AGENTS = "no_agents"
    AWAY = "away"
    BUSY = "busy"
    FREE = "free"


@dataclass(frozen=True)
class Facts:
    fact: Fact
    estimate_s: float | None
    low_s: float | None
    high_s: float | None
    closes_in_s: float | None  # within the closing notice, else None
    closed: bool  # the line closed while this customer waits
    after_close: bool  # the estimate runs past the closing time


def erlang_cdf(k: int, x: float) -> float:
    """P(Erlang(k, rate 1) <= x)."""
    if x <= 0:
        return 0.0
    term, total = 1.0, 1.0
    for i in range(1, k):
        term *= x / i
        total += term
    return 1.0 - math.exp(-x) * total


def erlang_quantile(k: int, p: float) -> float:
    lo, hi = 0.0, float(k) + 10.0 * math.sqrt(k) + 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if erlang_cdf(k, mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def wait_range(estimate_s: float, ahead: float, accept_s: float = 0.0) -> tuple[float, float]:
    """(low, high) seconds: the 10th and 90th percentile around the mean `estimate_s`."""
    k = max(1, round(ahead) + 1)
    to_agent = max(0.0, estimate_s - accept_s)
    scale = to_agent / k  # Erlang(k) has mean k
    return accept_s + scale * erlang_quantile(k, 0.1), accept_s + scale * erlang_quantile(k, 0.9)


def facts(
    *,
    estimate_s: float | None,
    ahead: float,
    serving_agents: int,
    online_agents: int,
    closes_in_s: float | None,
    is_open: bool,
    notice_s: float,
    accept_s: float = 5.0,
) -> Facts:
    if online_agents <= 0:
        fact = Fact.NO_AGENTS
    elif serving_agents <= 0:
        fact = Fact.AWAY
    elif ahead < 1 and estimate_s is not None and estimate_s <= FREE_S:
        fact = Fact.FREE
    else:
        fact = Fact.BUSY
    if fact in (Fact.NO_AGENTS, Fact.AWAY) or estimate_s is None:
        low = high = None
        estimate_s = None if fact in (Fact.NO_AGENTS, Fact.AWAY) else estimate_s
    else:
        low, high = wait_range(estimate_s, ahead, accept_s)
    closing = closes_in_s if closes_in_s is not None and closes_in_s <= notice_s else None
    after = bool(closes_in_s is not None and estimate_s is not None and estimate_s > closes_in_s)
    return Facts(fact, estimate_s, low, high, closing, not is_open, after or not is_open)
