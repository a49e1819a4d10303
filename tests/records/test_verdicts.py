"""The verdict store against the real (private) Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from signlink.check.outcome import Outcome
from signlink.errors import BackendUnavailable, Conflict, NotFound
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.records.verdicts import VerdictStore

NOW = 1_795_000_000.25  # 2026-11-18T11:06:40.250Z


def verdict(*, hands: Status = Status.PASS, complete: bool = True) -> Verdict:
    results = tuple(
        CriterionResult(c, hands if c is Criterion.HANDS else Status.PASS, 1.0, 0.5, {"en": "", "zh-CN": ""})
        for c in Criterion
    )
    passed = all(r.status is Status.PASS for r in results) and complete
    return Verdict(passed=passed, complete=complete, criteria=results, metrics={"fps": 29.9, "width": 640})


@pytest.fixture
def store(redis: Redis) -> VerdictStore:
    return VerdictStore(redis, "test", ttl_s=3600)


async def test_a_saved_verdict_reads_back_with_every_field(store: VerdictStore, redis: Redis) -> None:
    verdict_id = await store.save(verdict(hands=Status.FAIL), check_id="c1", duration_s=4.2, now=NOW)
    record = await store.get(verdict_id)
    assert record.id == verdict_id and record.check_id == "c1"
    assert record.created_at == "2026-11-18T11:06:40.250Z"
    assert record.created_epoch == NOW
    assert record.duration_s == 4.2
    assert record.passed is False and record.outcome is Outcome.FAILED
    assert record.criteria["hands"].status == "fail" and record.criteria["hands"].value == 1.0
    assert record.criteria["light"].status == "pass"
    assert record.metrics == {"fps": 29.9, "width": 640}
    assert record.continued_despite_failure is False
    assert 0 < await redis.ttl(f"test:verdict:{verdict_id}") <= 3600


async def test_ids_are_unguessable_and_distinct(store: VerdictStore) -> None:
    ids = {await store.save(verdict(), check_id="c", duration_s=1.0) for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) >= 20 for i in ids)


async def test_the_outcome_is_kept_and_only_a_passing_verdict_may_be_passed(store: VerdictStore) -> None:
    timed_out = await store.save(
        verdict(hands=Status.PENDING, complete=False), check_id="c", duration_s=30, outcome=Outcome.TIMED_OUT
    )
    assert (await store.get(timed_out)).outcome is Outcome.TIMED_OUT
    passed = await store.save(verdict(), check_id="c", duration_s=1.2)
    assert (await store.get(passed)).passed is True
    assert (await store.get(passed)).outcome is Outcome.PASSED
    with pytest.raises(ValueError, match="passing"):
        await store.save(verdict(hands=Status.FAIL), check_id="c", duration_s=1, outcome=Outcome.PASSED)


async def test_continuing_despite_a_failed_check_is_recorded_once(store: VerdictStore) -> None:
    verdict_id = await store.save(verdict(hands=Status.FAIL), check_id="c", duration_s=30)
    first = await store.mark_continued(verdict_id, now=NOW)
    assert first.continued_despite_failure is True
    assert first.continued_at == "2026-11-18T11:06:40.250Z"
    again = await store.mark_continued(verdict_id, now=NOW + 60)
    assert again.continued_at == first.continued_at
    assert (await store.get(verdict_id)).to_dict()["continued_despite_failure"] is True


async def test_a_passed_check_cannot_be_continued_despite_failure(store: VerdictStore) -> None:
    verdict_id = await store.save(verdict(), check_id="c", duration_s=1.2)
    with pytest.raises(Conflict):
        await store.mark_continued(verdict_id)
    assert (await store.get(verdict_id)).continued_despite_failure is False


async def test_unknown_or_expired_verdicts_are_not_found(store: VerdictStore, redis: Redis) -> None:
    with pytest.raises(NotFound):
        await store.get("nope")
    with pytest.raises(NotFound):
        await store.mark_continued("nope")
    verdict_id = await store.save(verdict(hands=Status.FAIL), check_id="c", duration_s=1)
    await redis.delete(store.key(verdict_id))  # what the TTL does eventually
    with pytest.raises(NotFound):
        await store.get(verdict_id)
    assert not await redis.exists(store.key(verdict_id))  # marking did not recreate it


async def test_redis_away_is_reported_as_backend_unavailable() -> None:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    from tests.support.redis_proc import free_port

    nothing_listens = free_port()
    client = Redis(
        host="127.0.0.1", port=nothing_listens, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    try:
        store = VerdictStore(client, "test", ttl_s=60)
        with pytest.raises(BackendUnavailable):
            await store.save(verdict(), check_id="c", duration_s=1)
        with pytest.raises(BackendUnavailable):
            await store.get("x")
    finally:
        await client.aclose()
