"""The QA JSON API and the CSV export (docs/protocol.md, "QA API"); the recorder's start and stop.

Every route needs a staff login with role qa or supervisor (admin passes): anonymous 401 (the CSV,
a download link on a page, redirects to /login like any page), agent 403. The handlers only parse the
query into `Filters` and shape JSON; the figures come from records/reports.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from signlink.accounts import Role
from signlink.config import Settings
from signlink.db.database import Database
from signlink.errors import BackendUnavailable, BadRequest, ConfigError, NotFound
from signlink.queue.call_events import CallEventLog
from signlink.records import aggregates
from signlink.records.query import DAY, CheckFilter, Filters, OutcomeFilter
from signlink.records.recorder import Recorder
from signlink.records.reports import Reports, period_of
from signlink.records.store import RecordStore
from signlink.records.verdicts import VerdictStore
from signlink.signaling.outgoing import Snapshot
from signlink.web import keys
from signlink.web.auth import require_role

DEFAULT_DAYS = 7
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_POINTS = 24 * 45  # hourly points in one series
_KEY = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
CSV_FIELDS = (
    "ticket_id",
    "session_id",
    "joined_at",
    "language",
    "topic",
    "priority_class",
    "agent_id",
    "outcome",
    "transferred",
    "waited_s",
    "handle_s",
    "check",
    "flagged",
    "rating",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

log = logging.getLogger(__name__)
qa_only = require_role(Role.QA, Role.SUPERVISOR)


# -- wiring ----------------------------------------------------------------------------------------------


async def records_ctx(app: web.Application) -> AsyncIterator[None]:
    """The database, the record store, the reports and this process's recorder (one per process; a
    consumer group shares the events among them). A schema that is not this code's refuses to start;
    PostgreSQL away at start does not: the live path runs, the recorder waits for it."""
    settings = app[keys.SETTINGS]
    redis = app[keys.REDIS]
    db = Database(
        settings.database_url, min_size=settings.database_pool_min, max_size=settings.database_pool_max
    )
    store = RecordStore(db, settings.record_retention_days)
    try:
        await store.require_schema()
    except BackendUnavailable as exc:
        log.warning("records: %s (the recorder waits for it; events wait in the streams)", exc)
    except ConfigError:
        await db.close()
        raise
    space = app[keys.QUEUE].keys  # the stores' keys share the queue's (on Cluster: its slot)
    calls = CallEventLog(redis, space, maxlen=settings.queue_events_maxlen)
    verdicts = VerdictStore(redis, space, settings.verdict_ttl_s)
    recorder = Recorder(
        store,
        app[keys.QUEUE],
        calls,
        verdicts,
        batch=settings.recorder_batch,
        lag_alarm=settings.recorder_lag_alarm,
    )
    app[keys.DATABASE] = db
    app[keys.RECORDS] = store
    app[keys.REPORTS] = Reports(
        store,
        languages=settings.sign_languages,
        topics=settings.topics,
        thresholds=(settings.qa_service_level_s, settings.qa_service_level_strict_s),
    )
    app[keys.RECORDER] = recorder
    recorder.start()
    yield
    await recorder.stop()
    await db.close()


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/qa/summary", summary)
    app.router.add_get("/api/qa/timeseries", timeseries)
    app.router.add_get("/api/qa/agents", agents)
    app.router.add_get("/api/qa/sessions", sessions_list)
    app.router.add_get("/api/qa/sessions/{ticket_id}", session_page)
    app.router.add_get("/api/qa/live", live)
    app.router.add_get("/qa/sessions.csv", sessions_csv)


# -- parsing the query ---------------------------------------------------------------------------------------


def _moment(value: str, name: str, *, end: bool) -> float:
    """An ISO date (a whole day: `to` includes it) or date-time (UTC unless it says otherwise)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO date or date-time, e.g. 2025-03-01", code="bad_field"
        ) from None
    return moment.timestamp()


def _key(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not _KEY.fullmatch(value):
        raise BadRequest(f"{name} has the wrong format", code="bad_field")
    return value


def parse_filters(query: Mapping[str, str], settings: Settings, now: float) -> Filters:
    """The common filters of every QA route (docs/protocol.md, "QA API"); BadRequest if malformed."""
    end = _moment(query["to"], "to", end=True) if query.get("to") else now
    start = _moment(query["from"], "from", end=False) if query.get("from") else end - DEFAULT_DAYS * DAY
    if start >= end:
        raise BadRequest("from must be before to", code="bad_field")
    if end - start > (settings.record_retention_days + 1) * DAY:
        raise BadRequest(f"the period is longer than the retention ({settings.record_retention_days} days)")
    try:
        outcome = OutcomeFilter(query["outcome"]) if query.get("outcome") else None
        check = CheckFilter(query["check"]) if query.get("check") else None
    except ValueError as exc:
        raise BadRequest(str(exc), code="unknown_value") from None
    flagged_raw = query.get("flagged", "")
    if flagged_raw not in ("", "0", "1", "true", "false"):
        raise BadRequest("flagged must be 1 or 0", code="bad_field")
    flagged = None if flagged_raw == "" else flagged_raw in ("1", "true")
    return Filters.period(
        start,
        end,
        language=_key(query, "language"),
        topic=_key(query, "topic"),
        agent=_key(query, "agent"),
        outcome=outcome,
        flagged=flagged,
        check=check,
    )


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", code="bad_field")
    return int(raw)


def _now() -> float:
    return datetime.now(UTC).timestamp()


# -- the data (the QA pages call these too: signlink/web/qa_data.py) -------------------------------


def _filters(request: web.Request, query: Mapping[str, str]) -> Filters:
    return parse_filters(query, request.app[keys.SETTINGS], _now())


async def summary_data(request: web.Request, query: Mapping[str, str]) -> dict[str, Any]:
    return await request.app[keys.REPORTS].summary(_filters(request, query))


async def timeseries_data(
    request: web.Request, query: Mapping[str, str], *, bucket: str | None = None
) -> dict[str, Any]:
    filters = _filters(request, query)
    hours = filters.end_hour - filters.start_hour
    bucket = bucket or ("hour" if hours <= 72 else "day")
    if bucket not in ("15min", "hour", "day"):
        raise BadRequest("bucket must be 15min, hour or day", code="unknown_value")
    if bucket == "15min":
        if hours * 4 > MAX_POINTS:
            raise BadRequest(f"more than {MAX_POINTS} points: ask for bucket=hour", code="bad_field")
        return await request.app[keys.REPORTS].timeseries(filters, 1, step_s=900)
    step = 1 if bucket == "hour" else 24
    if hours / step > MAX_POINTS:
        raise BadRequest(f"more than {MAX_POINTS} points: ask for bucket=day", code="bad_field")
    return await request.app[keys.REPORTS].timeseries(filters, step)


async def agents_data(request: web.Request, query: Mapping[str, str]) -> dict[str, Any]:
    filters = _filters(request, query)
    counters = await request.app[keys.REPORTS].agents(filters)
    accounts = request.app[keys.ACCOUNTS]
    names = {}
    for agent_id in counters:
        account = await accounts.get(agent_id)
        names[agent_id] = account.display_name if account else agent_id
    return {"period": period_of(filters), "agents": aggregates.agent_rows(counters, names)}


async def sessions_data(
    request: web.Request, query: Mapping[str, str], *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> dict[str, Any]:
    filters = _filters(request, query)
    rows, next_cursor = await request.app[keys.REPORTS].page(filters, limit, cursor or None)
    return {"period": period_of(filters), "sessions": rows, "next_cursor": next_cursor}


async def session_data(request: web.Request, ticket_id: str) -> dict[str, Any]:
    if not _KEY.fullmatch(ticket_id):
        raise NotFound("no such ticket")
    return await request.app[keys.REPORTS].session_page(ticket_id)


async def live_data(request: web.Request) -> dict[str, Any]:
    snapshot = await request.app[keys.QUEUE].snapshot()
    return Snapshot(snapshot).fields()


# -- handlers --------------------------------------------------------------------------------------


@qa_only
async def summary(request: web.Request) -> web.Response:
    return _json(await summary_data(request, request.query))


@qa_only
async def timeseries(request: web.Request) -> web.Response:
    return _json(await timeseries_data(request, request.query, bucket=request.query.get("bucket")))


@qa_only
async def agents(request: web.Request) -> web.Response:
    return _json(await agents_data(request, request.query))


@qa_only
async def sessions_list(request: web.Request) -> web.Response:
    limit = _int(request.query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return _json(await sessions_data(request, request.query, limit=limit, cursor=request.query.get("cursor")))


@qa_only
async def session_page(request: web.Request) -> web.Response:
    return _json(await session_data(request, request.match_info["ticket_id"]))


@qa_only
async def live(request: web.Request) -> web.Response:
    return _json(await live_data(request))


@qa_only
async def sessions_csv(request: web.Request) -> web.StreamResponse:
    filters = _filters(request, request.query)
    day_from = datetime.fromtimestamp(filters.start, UTC).strftime("%Y%m%d-%H")
    day_to = datetime.fromtimestamp(filters.end, UTC).strftime("%Y%m%d-%H")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="signlink-sessions-{day_from}-{day_to}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await response.write((",".join(CSV_FIELDS) + "\r\n").encode())

    async def write(chunk: bytes) -> None:
        # COPY ends rows with \n; CSV (RFC 4180) wants \r\n. Our cells hold no line breaks.
        await response.write(chunk.replace(b"\n", b"\r\n"))

    await request.app[keys.REPORTS].copy_csv(filters, CSV_SELECT, write)
    await response.write_eof()
    return response


# -- output ----------------------------------------------------------------------------------------


def csv_cell(value: object) -> str:
    """One cell, safe to open in a spreadsheet: text that a spreadsheet would run as a formula
    (= + - @, tab, carriage return first) gets a leading apostrophe. Numbers are ours and never are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(round(value, 3)) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _sql_text(column: str) -> str:
    """A text cell made safe to open in a spreadsheet (as csv_cell does), in SQL."""
    starts = "'=', '+', '-', '@', E'\\t', E'\\r'"
    return f"CASE WHEN left({column}, 1) IN ({starts}) THEN '''' || {column} ELSE nullif({column}, '') END"


def _sql_number(column: str) -> str:
    """round(value, 3) as Python prints it (repr): 2.0, 0.125, 12.5."""
    r = f"round({column}::numeric, 3)"
    return f"CASE WHEN {r} = trunc({r}) THEN trunc({r})::text || '.0' ELSE rtrim({r}::text, '0') END"


CSV_SELECT = ", ".join(
    [
        _sql_text("t.id"),
        _sql_text("t.session_id"),
        "to_char(to_timestamp(floor(t.joined_at)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        _sql_text("t.language"),
        _sql_text("t.topic"),
        _sql_text("t.priority_class"),
        _sql_text("t.agent"),
        "t.outcome",
        "CASE WHEN t.transfers > 0 THEN '1' ELSE '0' END",
        _sql_number("t.waited_s"),
        _sql_number("t.handle_s"),
        "t.check_status",
        "CASE WHEN t.flagged THEN '1' ELSE '0' END",
        "t.rating::text",
    ]
)


def _json(body: object) -> web.Response:
    return web.json_response(body, headers={"Cache-Control": "no-store"})
