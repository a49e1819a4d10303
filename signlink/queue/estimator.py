"""Estimated wait: a queue-length predictor with abandonment (Whitt 1999; Ibrahim & Whitt 2009).

With s agents able to serve a ticket, all busy, each finishing a customer at rate mu = 1/busy_s, and
each waiting customer giving up at rate theta, a customer with n others ahead waits, until an agent
takes them, on average

    E[W | n] = sum_{i=0..n} 1 / (s*mu + i*theta)

(each term: the mean time until the next departure from ahead of them, by service or abandonment,
while i are still ahead). With theta = 0 this is (n + 1) / (s*mu). The agent then needs accept_s to
pick up. The sum has a closed form through the digamma function, so fractional n (the weighted
count of tickets ahead across queues that share agents; see position.lua) works as it is.

busy_s, accept_s and theta are measured in Redis as the day goes (lib.lua: ewma, exit_queue).
docs/queue.md shows how this compares with delay-history estimates in the simulated day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Used until the day has its own measurements.
PRIOR_BUSY_S = 360.0
PRIOR_ACCEPT_S = 5.0
# Below this much waiting time observed, an abandonment rate is noise.
MIN_EXPOSURE_S = 600.0


def _num(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "", False) else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class WaitStats:
    busy_s: float  # an agent's cycle per customer: offer made -> ready for the next
    accept_s: float  # offer made -> accepted
    abandon_rate: float  # per waiting customer per second

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> WaitStats:
        wait_sum = _num(raw.get("wait_sum")) or 0.0
        abandoned = _num(raw.get("aband_sum")) or 0.0
        return cls(
            busy_s=_num(raw.get("busy_s")) or PRIOR_BUSY_S,
            accept_s=_num(raw.get("accept_s")) or PRIOR_ACCEPT_S,
            abandon_rate=abandoned / wait_sum if wait_sum >= MIN_EXPOSURE_S else 0.0,
        )


def digamma(x: float) -> float:
    """psi(x) for x > 0: recurrence up to 6, then the asymptotic series (error < 1e-9)."""
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return result + math.log(x) - 0.5 * inv - series


def time_to_agent(ahead: float, servers: int, stats: WaitStats) -> float | None:
    """Mean time until an agent takes a ticket with `ahead` tickets before it; None: no agent."""
    if servers <= 0:
        return None
    rate = servers / stats.busy_s
    ahead = max(0.0, ahead)
    theta = stats.abandon_rate
    if theta <= rate * 1e-9:
        return (ahead + 1.0) / rate
    a = rate / theta
    return (digamma(a + ahead + 1.0) - digamma(a)) / theta


def expected_wait(ahead: float, servers: int, stats: WaitStats, *, offered: bool = False) -> float | None:
    """Seconds from now until the call starts."""
    if offered:
        return stats.accept_s
    to_agent = time_to_agent(ahead, servers, stats)
    return None if to_agent is None else to_agent + stats.accept_s
