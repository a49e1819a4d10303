"""GET /metrics: Prometheus text format 0.0.4 for operators (docs/protocol.md, "/metrics").

Queue gauges come from the queue's snapshot, counters from the records' all-time totals (so every
process reports the same service-wide counts; sum only the per-process gauges). Open on the
operator network; with SIGNLINK_METRICS_TOKEN set, a request needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable, Mapping

from aiohttp import web

from signlink.errors import BackendUnavailable
from signlink.records import aggregates
from signlink.signaling.protocol import Role
from signlink.web import keys

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


class Exposition:
    """Builds the text: one HELP and TYPE per family, then its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        label_text = ""
        if labels:
            label_text = "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"
        self.lines.append(f"{name}{label_text} {_number(value)}")

    def histogram(self, name: str, buckets: Iterable[tuple[float, float]], total: float) -> None:
        """`buckets`: (upper edge, count in that bin) in order; written cumulative, as Prometheus wants."""
        running = 0.0
        for edge, count in buckets:
            running += count
            le = "+Inf" if math.isinf(edge) else repr(float(edge))  # as the client libraries write it
            self.sample(f"{name}_bucket", running, {"le": le})
        self.sample(f"{name}_sum", total)
        self.sample(f"{name}_count", running)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _authorised(request: web.Request, token: str) -> bool:
    if not token:
        return True
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


async def metrics(request: web.Request) -> web.Response:
    app = request.app
    if not _authorised(request, app[keys.SETTINGS].metrics_token):
        return web.Response(
            status=401,
            text="a bearer token is needed\n",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    out = Exposition()
    snapshot = await app[keys.QUEUE].snapshot()
    out.family(
        "signlink_queue_waiting", "gauge", "Customers waiting in a queue (not yet offered to an agent)."
    )
    for line in snapshot.lines:
        out.sample("signlink_queue_waiting", line.waiting, {"language": line.language, "topic": line.topic})
    out.family("signlink_queue_offered", "gauge", "Customers whose ticket is on offer to an agent now.")
    for line in snapshot.lines:
        out.sample("signlink_queue_offered", line.offered, {"language": line.language, "topic": line.topic})
    out.family("signlink_queue_longest_wait_seconds", "gauge", "Longest current wait in a queue.")
    for line in snapshot.lines:
        labels = {"language": line.language, "topic": line.topic}
        out.sample("signlink_queue_longest_wait_seconds", line.longest_wait_s, labels)
    out.family("signlink_agents", "gauge", "Agents by status.")
    for status, count in snapshot.agents.items():
        out.sample("signlink_agents", count, {"status": status.value})
    in_call = sum(c for s, c in snapshot.agents.items() if s.value == "in_call")
    out.family("signlink_active_calls", "gauge", "Calls in progress (agents in a call).")
    out.sample("signlink_active_calls", in_call)

    recorder = app[keys.RECORDER]
    try:
        totals = await app[keys.RECORDS].all_time()
    except BackendUnavailable:
        totals = None  # PostgreSQL away: the live figures above still count
    out.family("signlink_database_up", "gauge", "1 if PostgreSQL answered this scrape.")
    out.sample("signlink_database_up", 0 if totals is None else 1)
    if totals is not None:
        _record_totals(out, totals)
    lag = await recorder.lag()
    out.family(
        "signlink_records_pending_events",
        "gauge",
        "Events handed to a recorder, not yet recorded, by stream.",
    )
    out.sample("signlink_records_pending_events", lag.queue.pending, {"stream": "queue"})
    out.sample("signlink_records_pending_events", lag.calls.pending, {"stream": "calls"})
    out.family("signlink_records_lag_events", "gauge", "Events not yet handed to any recorder, by stream.")
    for name, one in (("queue", lag.queue), ("calls", lag.calls)):
        if one.unread is not None:
            out.sample("signlink_records_lag_events", one.unread, {"stream": name})
    out.family(
        "signlink_records_stream_cap_events", "gauge", "Most events a stream keeps (older are trimmed)."
    )
    out.sample("signlink_records_stream_cap_events", lag.queue.maxlen, {"stream": "queue"})
    out.sample("signlink_records_stream_cap_events", lag.calls.maxlen, {"stream": "calls"})
    out.family(
        "signlink_records_trimmed_events_total", "counter", "Events the stream cap removed unrecorded."
    )
    out.sample("signlink_records_trimmed_events_total", recorder.trimmed)
    out.family("signlink_records_recorded_events_total", "counter", "Events this process recorded.")
    out.sample("signlink_records_recorded_events_total", recorder.recorded)

    out.family("signlink_active_checks", "gauge", "Video checks running in this process.")
    out.sample("signlink_active_checks", app[keys.CHECKS].live_count)
    hub = app[keys.CALLS].hub
    out.family("signlink_ws_connections", "gauge", "WebSocket connections of this process, by role.")
    for role in Role:
        out.sample("signlink_ws_connections", sum(1 for _ in hub.connections(role)), {"role": role.value})
    return web.Response(body=out.text().encode(), headers={"Content-Type": CONTENT_TYPE})


def _record_totals(out: Exposition, totals: dict[str, float]) -> None:
    out.family("signlink_tickets_total", "counter", "Customer requests recorded, by how they ended so far.")
    for outcome in ("answered", "abandoned", "unserved", "waiting"):
        out.sample("signlink_tickets_total", totals.get(outcome, 0), {"outcome": outcome})
    out.family("signlink_offers_created_total", "counter", "Offers made to agents.")
    out.sample("signlink_offers_created_total", totals.get("offers_made", 0))
    out.family("signlink_offers_total", "counter", "Offers closed, by outcome.")
    for outcome in ("accepted", "declined", "timed_out", "cancelled"):
        out.sample("signlink_offers_total", totals.get(f"offers_{outcome}", 0), {"outcome": outcome})
    out.family(
        "signlink_check_duration_seconds",
        "histogram",
        "How long video checks took (checks whose customer then joined the queue).",
    )
    edges = [float(e) for e in aggregates.CHECK_EDGES] + [math.inf]
    bins = [(edge, totals.get(name, 0)) for edge, name in zip(edges, aggregates.CHECK_FIELDS, strict=True)]
    out.histogram("signlink_check_duration_seconds", bins, totals.get("check_dur_sum", 0))
    out.family("signlink_calls_flagged_total", "counter", "Calls whose video fell below signing needs.")
    out.sample("signlink_calls_flagged_total", totals.get("q_flagged", 0))
