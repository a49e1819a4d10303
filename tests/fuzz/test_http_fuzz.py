"""Seeded hostile input over the customer HTTP API (tickets, ratings, service, checks, verdicts, pages):
broken bodies, headers, content types, ids and queries. Never a 5xx, never a traceback in the log, /api
errors in their JSON shape, and the only state change is a ticket for each 201 the API answered.
A failure names its seed and case (replay with SIGNLINK_FUZZ_SEED=<seed>)."""

from __future__ import annotations

import json
import logging
import os
from typing import Any
from urllib.parse import quote

import pytest

from signlink.queue import audit
from signlink.web import keys
from tests.fuzz.hostile import NASTY_STRINGS, Hostile
from tests.signaling.call_client import App, CallKit, kit

__all__ = ["kit"]
SEED = int(os.environ.get("SIGNLINK_FUZZ_SEED", "11"))
CASES = 1500
UNLIMITED = {
    "limit_tickets_per_address": 0,
    "limit_ratings_per_address": 0,
    "limit_checks_per_address": 0,
    "limit_tickets_overall": 0,
    "limit_ratings_overall": 0,
    "limit_checks_overall": 0,
}
BODIES: dict[str, dict[str, Any]] = {
    "tickets": {
        "language": "ASL",
        "topic": "phone",
        "priority_class": "normal",
        "verdict_id": "none",
        "device_model": "Pixel 8",
        "device_serial": "SN-1",
    },
    "ratings": {"token": "x" * 43, "score": 5, "comment": "thanks"},
    "sender": {"rtt_ms": 10, "fps": 30, "width": 640, "height": 480},
}
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
CONTENT_TYPES = ["application/json", "text/plain", "application/sdp", "multipart/form-data", "", "x/\u00e9"]


class Requests:
    """One random request per call: (method, path, headers, body bytes)."""

    def __init__(self, rng: Hostile, token: str) -> None:
        self.rng, self.token = rng, token

    def _id(self) -> str:
        raw = str(self.rng.choice([*NASTY_STRINGS, "v" * 64, "c-1", "-", "%00", "..%2f.."]))
        return quote(raw.encode("utf-8", "surrogatepass"), safe="")  # a lone surrogate as %ED%A0%80

    def _json(self, name: str) -> bytes:
        return self.rng.text(BODIES[name]).encode("utf-8", "surrogatepass")

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": self.rng.choice(CONTENT_TYPES)}
        pick = self.rng.rng.randrange(5)
        if pick == 0:
            headers["Authorization"] = f"Bearer {self.token}"
        elif pick == 1:
            # What a client can put in a header at all: printable ASCII.
            nasty = "".join(c for c in self.rng.choice(NASTY_STRINGS) if " " <= c <= "~")
            headers["Authorization"] = self.rng.choice(["Bearer ", "Basic x", "Bearer " + nasty])
        if self.rng.rng.randrange(8) == 0:
            headers["Origin"] = self.rng.choice(["http://evil.example", "null", ""])
        if self.rng.rng.randrange(8) == 0:
            headers["X-Forwarded-For"] = self.rng.choice(["1.2.3.4", "::1, 10.0.0.1", "not an address"])
        return headers

    def next(self) -> tuple[str, str, dict[str, str], bytes]:
        pick = self.rng.rng.randrange(11)
        headers = self._headers()
        if pick <= 2:
            return "POST", "/api/tickets", headers, self._json("tickets")
        if pick == 3:
            return "POST", "/api/ratings", headers, self._json("ratings")
        if pick == 4:
            return "DELETE", "/api/tickets/current", headers, b""
        if pick == 5:
            return "GET", f"/api/service?{self._id()}={self._id()}", headers, b""
        if pick == 6:
            sdp = SDP if self.rng.rng.randrange(2) else self.rng.choice(NASTY_STRINGS)
            body = sdp.encode("utf-8", "surrogatepass")
            return "POST", self.rng.choice(["/api/checks", f"/api/checks?watch={self._id()}"]), headers, body
        if pick == 7:
            check = self._id()
            method, path = self.rng.choice(
                [("DELETE", f"/api/checks/{check}"), ("POST", f"/api/checks/{check}/sender")]
            )
            return method, path, headers, self._json("sender")
        if pick == 8:
            verdict = self._id()
            method, path = self.rng.choice(
                [("GET", f"/api/verdicts/{verdict}"), ("POST", f"/api/verdicts/{verdict}/continue")]
            )
            return method, path, headers, b""
        if pick == 9:
            return "GET", f"/api/checks/{self._id()}/events", headers, b""
        page = self.rng.choice(["/wait", "/rate", "/check", "/", "/help"])
        return "GET", f"{page}?{self._id()}={self._id()}&token={self._id()}&watch={self._id()}", headers, b""


@pytest.mark.slow
async def test_hostile_http_requests_never_fail_the_server(
    kit: CallKit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app: App = await kit.app(**UNLIMITED)
    await kit.agent(app, ready=False)  # ASL/phone is served: a valid join gets its ticket
    existing = await kit.customer(app)
    queue = app.app[keys.QUEUE]
    before = len((await queue.dump())["tickets"]) // 2  # a flat list: id, record, id, record...
    requests = Requests(Hostile(SEED), existing.token)
    created = 0
    for case in range(CASES):
        method, path, headers, body = requests.next()
        where = f"seed {SEED}, case {case}: {method} {path} {headers} {body[:200]!r}"
        response = await app.request(method, path, headers=headers, data=body, allow_redirects=False)
        text = await response.text()
        assert response.status < 500, f"{where} -> {response.status} {text[:300]}"
        if path.startswith("/api/") and response.status >= 400:
            assert "error" in json.loads(text), f"{where} -> {text[:300]}"
        if method == "POST" and path == "/api/tickets" and response.status == 201:
            created += 1
    dump = await queue.dump()
    assert len(dump["tickets"]) // 2 == before + created, f"seed {SEED}: tickets made without a 201"
    assert audit.check(dump) == []
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, f"seed {SEED}: {[r.getMessage() for r in bad[:5]]}"
