"""QA records for page tests: the records backend's hand-made day (tests/records/dataset.py) written
through its own store (PostgreSQL), plus staff accounts and one call's wrap-up, notes and rating.

The agent "ana" has a hostile display name and the call t1 hostile texts, so every page that shows
them proves its escaping. Nothing here writes a record key itself.
"""

from __future__ import annotations

from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.db.database import Database
from signlink.queue.call_events import CallEventLog
from signlink.queue.store import QueueStore
from signlink.records.quality import Side
from signlink.records.recorder import Recorder
from signlink.records.sessions import SessionRecords
from signlink.records.store import RecordStore
from tests.records import dataset
from tests.support.staff import add_account

DAY_ISO = "2027-01-15"  # the dataset's day (UTC)
PERIOD = {"from": DAY_ISO, "to": DAY_ISO}
HOSTILE_NAME = '<script>alert("name")</script>Ana'
HOSTILE_NOTE = '<img src=x onerror=alert("note")> customer asked about =SUM(A1)'
HOSTILE_WRAP = "<b>reset</b> & done"
HOSTILE_COMMENT = "</p><script>alert('comment')</script>"
T1_SESSION = "s-t1-0"  # dataset: t1 answered by ana after 8 s, talk 300 s
T2_SESSION = "s-t2-0"  # dataset: t2 answered by ana after 25 s, talk 600 s, flagged for low fps
T2_SAMPLES = 12  # per side, every 10 s; the customer's video drops to 12 fps for samples 4-8


async def seed(settings: Settings, redis: Redis) -> None:
    db = Database(settings.database_url)
    store = RecordStore(db, settings.record_retention_days)
    try:
        await add_account(settings, redis, "ana", display_name=HOSTILE_NAME, languages=("ASL", "BSL"))
        await add_account(settings, redis, "bob", display_name="Bob Chen", languages=("ASL", "BSL"))
        await add_account(settings, redis, "cy", display_name="Cy Wu", languages=("ASL", "BSL"))
        sessions = SessionRecords(redis, settings.redis_prefix, 86400)
        await sessions.start(
            session_id=T1_SESSION,
            ticket_id="t1",
            agent_id="ana",
            language="ASL",
            topic="phone",
            started_at=dataset.H10 + 68,
        )
        await sessions.add_note(T1_SESSION, agent_id="ana", text=HOSTILE_NOTE)
        await sessions.wrap_up(T1_SESSION, agent_id="ana", outcome="resolved", notes=HOSTILE_WRAP)
        await sessions.rate(T1_SESSION, score=5, comment=HOSTILE_COMMENT)
        calls = sessions.events
        await sessions.start(
            session_id=T2_SESSION,
            ticket_id="t2",
            agent_id="ana",
            language="ASL",
            topic="phone",
            started_at=dataset.H10 + 120 + 25,
        )
        connected = dataset.H10 + 120 + 25
        for i in range(T2_SAMPLES):
            dip = 4 <= i <= 8
            for side in Side:
                slow = side is Side.AGENT and dip
                sample = {
                    "rtt_ms": 90.0 + i,
                    "packet_loss": 0.01 if slow else 0.001,
                    "jitter_ms": 6.0,
                    "fps": 12.0 if slow else 29.0,
                    "width": 640,
                    "height": 480,
                    "freezes": 1 if slow else 0,
                }
                await calls.quality_sample(T2_SESSION, connected + 10 * (i + 1), side.value, sample)
        await record_all(settings, redis, store)
        # The hand-made records last, as they are (their figures are worked out by hand in the tests).
        await store.write_new(dataset.tickets())
    finally:
        await db.close()


async def record_all(settings: Settings, redis: Redis, store: RecordStore) -> None:
    """Run a recorder until every queue and call event is recorded (the one writer, as in service)."""
    calls = CallEventLog(redis, settings.redis_prefix, maxlen=settings.queue_events_maxlen)
    recorder = Recorder(store, QueueStore(redis, settings), calls, consumer="seed")
    await recorder.ensure_group()
    while await recorder.step():
        pass


async def add_qa(settings: Settings, redis: Redis, username: str = "quinn", role: Role = Role.QA) -> None:
    await add_account(settings, redis, username, role=role, display_name="Quinn QA")
