"""Check verdicts, kept in Redis so a later step (ticket, QA record) can present them by id.

One hash per verdict, `<root>:verdict:<id>` (redisio/keyspace.py), with a TTL of `verdict_ttl_s`:
    record        the immutable record as JSON (VerdictRecord without the continue fields)
    passed        "1" / "0", so the Lua script can refuse to mark a passed check
    continued_at  set once, when the customer continued despite a failed check

This hash is the live copy (the offer shows it to the agent while the ticket waits); the record is
in PostgreSQL: saving and marking append a call event (queue/call_events.py) in the same atomic
step, and the recorder writes it. This module is the only code that knows these keys.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from signlink.check.outcome import Outcome
from signlink.errors import BackendUnavailable, Conflict, NotFound
from signlink.quality.verdict import Verdict
from signlink.queue.call_events import CallEventLog, CallEventType
from signlink.redisio import Keyspace, as_keyspace, is_cluster

MARK_CONTINUED_LUA = resources.files("signlink.records").joinpath("lua/mark_continued.lua").read_text()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CriterionRecord:
    status: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "value": self.value}


@dataclass(frozen=True)
class VerdictRecord:
    id: str
    check_id: str
    created_at: str  # UTC, ISO 8601
    created_epoch: float
    duration_s: float
    passed: bool
    outcome: Outcome
    criteria: dict[str, CriterionRecord]
    metrics: dict[str, Any]
    continued_at: str | None = None

    @property
    def continued_despite_failure(self) -> bool:
        return self.continued_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check_id": self.check_id,
            "created_at": self.created_at,
            "created_epoch": self.created_epoch,
            "duration_s": self.duration_s,
            "passed": self.passed,
            "outcome": self.outcome.value,
            "criteria": {name: c.to_dict() for name, c in self.criteria.items()},
            "metrics": self.metrics,
            "continued_despite_failure": self.continued_despite_failure,
            "continued_at": self.continued_at,
        }

    def _stored(self) -> str:
        body = self.to_dict()
        del body["continued_despite_failure"], body["continued_at"]
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def parse(cls, stored: bytes | str, continued_at: bytes | str | None) -> VerdictRecord:
        raw = json.loads(stored)
        if isinstance(continued_at, bytes):
            continued_at = continued_at.decode()
        return cls(
            id=str(raw["id"]),
            check_id=str(raw["check_id"]),
            created_at=str(raw["created_at"]),
            created_epoch=float(raw["created_epoch"]),
            duration_s=float(raw["duration_s"]),
            passed=bool(raw["passed"]),
            outcome=Outcome(raw["outcome"]),
            criteria={
                str(name): CriterionRecord(status=str(c["status"]), value=c.get("value"))
                for name, c in raw["criteria"].items()
            },
            metrics=dict(raw["metrics"]),
            continued_at=continued_at,
        )


class VerdictStore:
    """Saves and reads check verdicts. `ttl_s` bounds how long they are kept."""

    def __init__(
        self, redis: Redis, keys: Keyspace | str, ttl_s: int, *, events_maxlen: int = 100_000
    ) -> None:
        self._redis = redis
        # The queue's keyspace: on Cluster the hash and the call-event stream share its slot (one MULTI).
        self._keys = as_keyspace(keys, cluster=is_cluster(redis))
        self._ttl_s = ttl_s
        self.events = CallEventLog(redis, self._keys, maxlen=events_maxlen)
        self._mark_continued = redis.register_script(MARK_CONTINUED_LUA)

    def key(self, verdict_id: str) -> str:
        return self._keys.key("verdict", verdict_id)

    async def save(
        self,
        verdict: Verdict,
        *,
        check_id: str,
        duration_s: float,
        outcome: Outcome | None = None,
        now: float | None = None,
    ) -> str:
        """Store a check's final verdict; return its new, unguessable id."""
        if outcome is None:
            outcome = Outcome.PASSED if verdict.passed and verdict.complete else Outcome.FAILED
        elif outcome is Outcome.PASSED and not (verdict.passed and verdict.complete):
            raise ValueError("outcome passed needs a complete passing verdict")
        passed = outcome is Outcome.PASSED
        epoch = time.time() if now is None else now
        record = VerdictRecord(
            id=secrets.token_urlsafe(16),
            check_id=check_id,
            created_at=_iso(epoch),
            created_epoch=round(epoch, 3),
            duration_s=round(duration_s, 3),
            passed=passed,
            outcome=outcome,
            criteria={r.criterion.value: CriterionRecord(r.status.value, r.value) for r in verdict.criteria},
            metrics=dict(verdict.metrics),
        )
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self.key(record.id), mapping={"record": record._stored(), "passed": int(passed)})
                pipe.expire(self.key(record.id), self._ttl_s)
                fields = self.events.fields(
                    CallEventType.VERDICT,
                    record.created_epoch,
                    verdict=record.id,
                    body=json.dumps(record.to_dict(), separators=(",", ":")),
                )
                pipe.xadd(self.events.key, fields, maxlen=self.events.maxlen, approximate=True)  # type: ignore[arg-type]
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot save the verdict: {exc}") from exc
        return record.id

    async def get(self, verdict_id: str) -> VerdictRecord:
        try:
            stored, continued_at = await self._redis.hmget(self.key(verdict_id), ["record", "continued_at"])
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot read the verdict: {exc}") from exc
        if stored is None:
            raise NotFound(f"no verdict {verdict_id!r} (unknown or expired)")
        return VerdictRecord.parse(stored, continued_at)

    async def mark_continued(self, verdict_id: str, *, now: float | None = None) -> VerdictRecord:
        """Record that the customer continued despite the failed check (idempotent)."""
        epoch = time.time() if now is None else now
        try:
            result = await self._mark_continued(
                keys=[self.key(verdict_id), self.events.key],
                args=[_iso(epoch), repr(round(epoch, 3)), str(self.events.maxlen)],
            )
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot update the verdict: {exc}") from exc
        status = int(result[0])
        if status == 0:
            raise NotFound(f"no verdict {verdict_id!r} (unknown or expired)")
        if status < 0:
            raise Conflict("this check passed: there is no failed check to continue despite")
        return VerdictRecord.parse(result[1], result[2])
