"""The app's verdicts, call records, watched check states and call events live in the queue's
keyspace: on Redis Cluster (one hash tag, one slot) the atomic steps that touch a record and the
call-event stream at once work, and the recorder writes what they appended into PostgreSQL. A single
Redis told to use the hash tag (SIGNLINK_REDIS_HASH_TAG, before a move to Cluster) tags them too."""

from __future__ import annotations

import asyncio

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from redis.crc import key_slot

from signlink.config import PROJECT_ROOT, Settings
from signlink.queue.models import EndedBy, JoinRequest
from signlink.redisio import connect
from signlink.web import keys
from signlink.web.app import create_app
from tests.records.test_durability import PASSING
from tests.support.redis_proc import ClusterProcesses, RedisProcess

FAILING = PASSING.__class__(passed=False, complete=True, criteria=PASSING.criteria, metrics={"fps": 4.0})
RECORDED_WITHIN_S = 30.0  # generous: the machine is shared; nothing is timed


@pytest.mark.parametrize("deployment", ["cluster", "single, hash-tagged"])
async def test_record_keeping_runs_in_the_queues_slot(
    aiohttp_client: AiohttpClient, request: pytest.FixtureRequest, database_url: str, deployment: str
) -> None:
    if deployment == "cluster":
        cluster: ClusterProcesses = request.getfixturevalue("redis_cluster")
        url, ports = cluster.url, [node.port for node in cluster.nodes]
    else:
        single: RedisProcess = request.getfixturevalue("redis_process")
        url, ports = single.url, [single.port]
    flusher = connect(url)
    await flusher.flushdb()
    await flusher.aclose()
    settings = Settings(
        redis_url=url,
        redis_hash_tag=deployment != "cluster",
        database_url=database_url,
        model_dir=PROJECT_ROOT / "models",
        sign_languages=("ASL",),
        topics=("phone",),
    )
    app = (await aiohttp_client(create_app(settings))).app
    queue, verdicts, sessions = app[keys.QUEUE], app[keys.VERDICTS], app[keys.SESSIONS]
    assert queue.keys.root == "{signlink}"

    # A failed check the customer continued despite, and its state as the waiting room watched it.
    verdict_id = await verdicts.save(FAILING, check_id="k1", duration_s=3.0)
    assert (await verdicts.mark_continued(verdict_id)).continued_despite_failure
    assert await app[keys.LATEST_CHECKS].save(verdict_id, FAILING) is not None
    assert await app[keys.LATEST_CHECKS].get(verdict_id) is not None
    # A call: started, ended, wrapped up, rated.
    await queue.agent_login("ana", ["ASL"], ["phone"], ready=True)
    placed = await queue.join(JoinRequest("customer-token-cluster-0001", "ASL", "phone", "normal"))
    assert placed.offer
    session = await queue.accept("ana", placed.offer.id)
    await sessions.start(
        session_id=session.id, ticket_id=placed.ticket.id, agent_id="ana", language="ASL", topic="phone"
    )
    await queue.end_session(session.id, by=EndedBy.CUSTOMER)
    await sessions.wrap_up(session.id, agent_id="ana", outcome="resolved", notes="done")
    await sessions.rate(session.id, score=5, comment="")

    # Every key any of them wrote is in the queue's slot.
    slot = key_slot(queue.keys.key("events").encode())
    written: list[bytes] = []
    for port in ports:
        client = Redis(host="127.0.0.1", port=port)
        written += [k.encode() if isinstance(k, str) else k for k in await client.keys("*")]
        await client.aclose()
    assert written and {key_slot(k) for k in written} == {slot}, sorted(written)
    assert all(k.startswith(b"{signlink}:") for k in written), sorted(written)

    # The app's recorder read the same call-event stream and wrote the records.
    records = app[keys.RECORDS]
    for _ in range(int(RECORDED_WITHIN_S / 0.1)):
        verdict, call = await records.verdict(verdict_id), await records.session(session.id)
        if verdict and verdict.continued_at and call and call.rating:
            break
        await asyncio.sleep(0.1)
    assert verdict is not None and verdict.continued_at is not None
    assert call is not None and (call.outcome, call.rating) == ("resolved", 5)
