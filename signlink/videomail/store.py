"""Video messages in PostgreSQL (migration 004_video_mail.sql): metadata in video_mails, the video in
video_mail_chunks, appended at exact offsets so an interrupted upload resumes where the server is.

A message says "sent" only after `send` committed with every byte present and the type sniffed: from
then on it is in the database, whatever happens to the browser or this process. Only this module
writes those tables.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signlink.db.database import Database
from signlink.errors import BadRequest, Conflict, Forbidden, NotFound
from signlink.videomail.checks import OUTCOMES, NewMail, sniff, token_hash


@dataclass(frozen=True)
class Mail:
    id: str
    language: str
    topic: str
    device_model: str | None
    device_serial: str | None
    locale: str
    email: str | None
    mime: str
    size: int
    received: int
    duration_s: float | None
    state: str
    reason: str
    created_at: datetime
    sent_at: datetime | None
    handled_at: datetime | None
    handled_by: str | None
    outcome: str | None
    watched_by: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Any) -> Mail:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        values["watched_by"] = tuple(row["watched_by"])
        return cls(**values)


_COLUMNS = ", ".join(Mail.__dataclass_fields__)


class VideoMailStore:
    def __init__(self, db: Database, *, max_bytes: int, chunk_bytes: int) -> None:
        self.db = db
        self.max_bytes = max_bytes
        self.chunk_bytes = chunk_bytes

    async def create(self, mail: NewMail) -> tuple[str, str]:
        """A new upload: (id, the customer's upload token)."""
        if mail.size > self.max_bytes:
            raise BadRequest(
                f"the video is {mail.size} bytes; the largest accepted is {self.max_bytes}",
                status=413,
                code="too_large",
            )
        mail_id, token = f"vm_{secrets.token_urlsafe(12)}", secrets.token_urlsafe(32)
        await self.db.fetchrow(
            "INSERT INTO video_mails (id, token_hash, language, topic, device_model, device_serial, locale,"
            " email, mime, size, duration_s, reason)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            mail_id,
            token_hash(token),
            mail.language,
            mail.topic,
            mail.device_model,
            mail.device_serial,
            mail.locale,
            mail.email,
            mail.mime,
            mail.size,
            mail.duration_s,
            mail.reason,
        )
        return mail_id, token

    async def _owned(self, conn: Any, mail_id: str, token: str, *, lock: bool) -> Any:
        row = await conn.fetchrow(
            "SELECT id, token_hash, size, received, state, mime FROM video_mails WHERE id = $1"
            + (" FOR UPDATE" if lock else ""),
            mail_id,
        )
        if row is None:
            raise NotFound("no such video message")
        if not secrets.compare_digest(row["token_hash"], token_hash(token)):
            raise Forbidden("this upload token is not for this video message")
        return row

    async def append(self, mail_id: str, token: str, offset: int, data: bytes) -> int:
        """Store `data` at `offset`; the bytes now received. A chunk sent again (a retry whose answer was
        lost) is accepted as it is; a gap or an overlap answers Conflict with the server's count."""
        if not data or len(data) > self.chunk_bytes:
            raise BadRequest(f"a chunk is 1 to {self.chunk_bytes} bytes", status=413, code="too_large")
        async with self.db.transaction() as conn:
            row = await self._owned(conn, mail_id, token, lock=True)
            received = int(row["received"])
            if row["state"] != "uploading":
                if offset + len(data) <= received:
                    return received  # a late retry after send: already stored
                raise Conflict("this video message is already sent")
            if offset + len(data) > int(row["size"]):
                raise BadRequest("the upload is longer than the size announced", status=413, code="too_large")
            if offset < received:
                stored = await conn.fetchval(
                    'SELECT length(data) FROM video_mail_chunks WHERE mail_id = $1 AND "offset" = $2',
                    mail_id,
                    offset,
                )
                if stored == len(data):
                    return received
                raise OffsetMismatch(received)
            if offset > received:
                raise OffsetMismatch(received)
            if offset == 0:
                sniff(row["mime"], data[:16])
            await conn.execute(
                'INSERT INTO video_mail_chunks (mail_id, "offset", data) VALUES ($1, $2, $3)',
                mail_id,
                offset,
                data,
            )
            received += len(data)
            await conn.execute("UPDATE video_mails SET received = $2 WHERE id = $1", mail_id, received)
        return received

    async def progress(self, mail_id: str, token: str) -> tuple[int, int, str]:
        """(received, size, state): where a resumed upload goes on from."""
        async with self.db.connection() as conn:
            row = await self._owned(conn, mail_id, token, lock=False)
        return int(row["received"]), int(row["size"]), str(row["state"])

    async def send(self, mail_id: str, token: str) -> Mail:
        async with self.db.transaction() as conn:
            row = await self._owned(conn, mail_id, token, lock=True)
            if row["state"] == "uploading":
                if int(row["received"]) != int(row["size"]):
                    raise OffsetMismatch(int(row["received"]))
                await conn.execute(
                    "UPDATE video_mails SET state = 'sent', sent_at = now() WHERE id = $1", mail_id
                )
        return await self.get(mail_id)

    async def get(self, mail_id: str) -> Mail:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM video_mails WHERE id = $1", mail_id)
        if row is None:
            raise NotFound("no such video message")
        return Mail.from_row(row)

    async def inbox(
        self, languages: Sequence[str] | None, *, handled: bool = False, limit: int = 100
    ) -> list[Mail]:
        """Sent (or handled) messages of these languages (None: every language), oldest first."""
        state = "handled" if handled else "sent"
        order = "handled_at DESC" if handled else "sent_at"
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM video_mails WHERE state = $1"
            " AND ($2::text[] IS NULL OR language = ANY($2)) ORDER BY " + order + " LIMIT $3",
            state,
            None if languages is None else list(languages),
            limit,
        )
        return [Mail.from_row(r) for r in rows]

    async def video(self, mail_id: str) -> AsyncIterator[bytes]:
        """The video's bytes in order, a chunk at a time (a cursor: the whole file is never in memory)."""
        async with self.db.transaction() as conn:
            cursor = conn.cursor(
                'SELECT data FROM video_mail_chunks WHERE mail_id = $1 ORDER BY "offset"', mail_id, prefetch=4
            )
            async for row in cursor:
                yield bytes(row["data"])

    async def watched(self, mail_id: str, by: str) -> None:
        await self.db.fetchrow(
            "UPDATE video_mails SET watched_by = array_append(watched_by, $2)"
            " WHERE id = $1 AND NOT ($2 = ANY(watched_by))",
            mail_id,
            by,
        )

    async def handle(self, mail_id: str, by: str, outcome: str) -> Mail:
        if outcome not in OUTCOMES:
            raise BadRequest(f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_field")
        row = await self.db.fetchrow(
            "UPDATE video_mails SET state = 'handled', handled_at = now(), handled_by = $2, outcome = $3"
            " WHERE id = $1 AND state = 'sent' RETURNING id",
            mail_id,
            by,
            outcome,
        )
        if row is None:
            mail = await self.get(mail_id)
            raise Conflict(f"this video message is {mail.state}, not waiting to be handled")
        return await self.get(mail_id)

    async def summary(self, since: datetime, until: datetime) -> dict[str, Any]:
        """QA: counts by state and reason, outcomes, and the time to handle (median, 90th percentile)."""
        row = await self.db.fetchrow(
            "SELECT count(*) FILTER (WHERE state <> 'uploading') AS sent,"
            " count(*) FILTER (WHERE state = 'handled') AS handled,"
            " count(*) FILTER (WHERE state = 'sent') AS waiting,"
            " count(*) FILTER (WHERE state = 'uploading') AS unfinished,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - sent_at))"
            "   FILTER (WHERE state = 'handled') AS handle_median_s,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM handled_at - sent_at))"
            "   FILTER (WHERE state = 'handled') AS handle_p90_s"
            " FROM video_mails WHERE created_at >= $1 AND created_at < $2",
            since,
            until,
        )
        outcomes = await self.db.fetch(
            "SELECT outcome, count(*) AS n FROM video_mails WHERE state = 'handled'"
            " AND created_at >= $1 AND created_at < $2 GROUP BY outcome",
            since,
            until,
        )
        reasons = await self.db.fetch(
            "SELECT reason, count(*) AS n FROM video_mails WHERE state <> 'uploading'"
            " AND created_at >= $1 AND created_at < $2 GROUP BY reason",
            since,
            until,
        )
        assert row is not None
        out = {k: (None if row[k] is None else float(row[k])) for k in ("handle_median_s", "handle_p90_s")}
        return {
            **{k: int(row[k]) for k in ("sent", "handled", "waiting", "unfinished")},
            **out,
            "outcomes": {r["outcome"]: int(r["n"]) for r in outcomes},
            "reasons": {r["reason"]: int(r["n"]) for r in reasons},
        }

    async def purge(self, retention_days: int) -> int:
        """Delete messages sent (or abandoned mid-upload) longer ago than the retention; the count."""
        rows = await self.db.fetch(
            "DELETE FROM video_mails WHERE coalesce(sent_at, created_at) < now() - make_interval(days => $1)"
            " RETURNING id",
            retention_days,
        )
        return len(rows)


class OffsetMismatch(Conflict):
    """The chunk does not start where the server's copy ends: resume from `received`."""

    def __init__(self, received: int) -> None:
        super().__init__(f"the upload goes on at byte {received}")
        self.received = received
