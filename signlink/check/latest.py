"""The latest state of a customer's video while they wait: written by the watch, read with the offer.

The check's verdict is given once; the waiting room keeps a low-rate watch open (session.py, watch
mode) and each analysed window is stored here by verdict id, so the agent's offer can say what the
video looks like now and when that was measured, not only what it looked like at the check.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.check.keys import CheckKeys
from signlink.quality.verdict import Verdict

log = logging.getLogger(__name__)

# The watch stream is capped by the sender on purpose (a few frames a second, scaled down): these
# criteria were judged by the full check and are not re-judged from it.
NOT_REJUDGED = frozenset({"frame_rate", "resolution"})
NOT_MEASURED = "not_measured"


@dataclass(frozen=True)
class LatestState:
    verdict_id: str
    measured_epoch: float  # when the window was analysed (UTC epoch seconds)
    complete: bool  # the window held enough data to judge
    passed: bool  # complete and no re-judged criterion failing
    statuses: dict[str, str]  # criterion -> pass | fail | pending | not_measured

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(name for name, status in self.statuses.items() if status == "fail")

    @classmethod
    def of(cls, verdict_id: str, verdict: Verdict, measured_epoch: float) -> LatestState:
        statuses = {
            r.criterion.value: NOT_MEASURED if r.criterion.value in NOT_REJUDGED else r.status.value
            for r in verdict.criteria
        }
        judged = [s for s in statuses.values() if s != NOT_MEASURED]
        complete = all(s != "pending" for s in judged)
        return cls(
            verdict_id, round(measured_epoch, 3), complete, complete and "fail" not in judged, statuses
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "measured_epoch": self.measured_epoch,
            "complete": self.complete,
            "passed": self.passed,
            "criteria": self.statuses,
        }


class LatestStates:
    """Redis store of LatestState by verdict id; entries expire `ttl_s` after the last write."""

    def __init__(self, redis: Redis, keys: CheckKeys, ttl_s: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s

    async def save(
        self, verdict_id: str, verdict: Verdict, *, now: float | None = None
    ) -> LatestState | None:
        """Store the state of an analysed window; None (logged) when it is not complete or Redis is away."""
        state = LatestState.of(verdict_id, verdict, time.time() if now is None else now)
        if not state.complete:
            return None  # keep the last judged state rather than "pending"
        try:
            await self._redis.set(
                self._keys.latest(verdict_id),
                json.dumps(state.to_dict(), separators=(",", ":")),
                ex=self._ttl_s,
            )
        except (RedisError, OSError) as exc:
            log.warning("latest state of %s not stored: %s", verdict_id, exc)
            return None
        return state

    async def get(self, verdict_id: str) -> LatestState | None:
        """The latest stored state, or None (never watched, expired, or Redis away)."""
        try:
            raw = await self._redis.get(self._keys.latest(verdict_id))
        except (RedisError, OSError) as exc:
            log.warning("latest state of %s not read: %s", verdict_id, exc)
            return None
        if raw is None:
            return None
        body = json.loads(raw)
        return LatestState(
            verdict_id=verdict_id,
            measured_epoch=float(body["measured_epoch"]),
            complete=bool(body["complete"]),
            passed=bool(body["passed"]),
            statuses={str(k): str(v) for k, v in body["criteria"].items()},
        )
