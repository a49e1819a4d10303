"""Settings: read once from SIGNLINK_* environment variables into one frozen object.

Nothing else in signlink reads os.environ. Every field, its variable and its default is listed in
the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from signlink.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _setting(default: Any, parse: Callable[[str], Any] = str, *, doc: str) -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every setting of a signlink process. Build with `Settings.from_env()`."""

    host: str = _setting("127.0.0.1", doc="address the HTTP server binds")
    port: int = _setting(8080, int, doc="HTTP port")
    log_level: str = _setting("INFO", doc="logging level (DEBUG, INFO, WARNING, ...)")
    redis_url: str = _setting(
        "",
        doc="Redis URL; empty: use 127.0.0.1:6379 if it answers, else start a private redis-server",
    )
    redis_prefix: str = _setting("signlink", doc="namespace of every Redis key")
    redis_hash_tag: bool = _setting(
        False,
        _bool,
        doc="keys start {prefix}: (one Cluster slot) even off Cluster; always on for a Cluster URL",
    )
    data_dir: Path = _setting(PROJECT_ROOT / "var", Path, doc="where the embedded Redis keeps its data")
    model_dir: Path = _setting(PROJECT_ROOT / "models", Path, doc="folder with the hand and face models")
    # The video check
    check_max_concurrent: int = _setting(8, int, doc="live checks at once per process (503 beyond)")
    check_timeout_s: float = _setting(30.0, float, doc="a live check ends with a verdict after this long")
    check_max_offer_bytes: int = _setting(65536, int, doc="largest SDP offer accepted")
    check_analysis_fps: float = _setting(10.0, float, doc="frames per second the analyser samples")
    check_window_s: float = _setting(1.0, float, doc="rolling window the verdict is computed over")
    verdict_ttl_s: int = _setting(
        86400,
        int,
        doc="how long the live copy of a check verdict stays in Redis (its record is in PostgreSQL)",
    )
    check_max_candidates: int = _setting(20, int, doc="ICE candidates one WHIP offer may list (400 beyond)")
    check_remote_networks: tuple[str, ...] = _setting(
        ("public", "private"),
        _csv,
        doc="what a WHIP offer's candidates may name: CIDRs, public, private, link-local, loopback, mdns",
    )
    check_ice_addresses: tuple[str, ...] = _setting(
        (), _csv, doc="local addresses the check's peer gathers on (empty: every interface but loopback)"
    )
    check_max_per_address: int = _setting(
        2, int, doc="live checks at once from one client address (429 beyond)"
    )
    check_no_media_s: float = _setting(
        5.0, float, doc="a check that brings no video within this frees its slot"
    )
    check_watch_max_concurrent: int = _setting(20, int, doc="waiting-room video watches at once per process")
    check_watch_max_s: float = _setting(1800.0, float, doc="a waiting-room video watch ends after this long")
    check_watch_analysis_fps: float = _setting(0.5, float, doc="frames per second a watch analyses")
    check_watch_window_s: float = _setting(15.0, float, doc="rolling window a watch's state is judged over")
    check_watch_ttl_s: int = _setting(3600, int, doc="how long a watch's latest state is kept after it")
    # WebRTC
    stun_urls: tuple[str, ...] = _setting((), _csv, doc="STUN URLs for browsers, comma-separated")
    turn_urls: tuple[str, ...] = _setting((), _csv, doc="TURN URLs, comma-separated")
    turn_secret: str = _setting("", doc="coturn static-auth-secret for time-limited TURN credentials")
    turn_ttl_s: int = _setting(3600, int, doc="lifetime of TURN credentials")
    # The queue
    sign_languages: tuple[str, ...] = _setting(
        ("CSL", "ASL", "BSL", "HKSL"), _csv, doc="sign languages served, comma-separated codes"
    )
    topics: tuple[str, ...] = _setting(
        ("phone", "tablet", "wearable", "pc", "smart_home", "repair"), _csv, doc="support topics"
    )
    case_categories: tuple[str, ...] = _setting(
        ("screen", "battery", "camera", "charging", "water", "software", "other"),
        _csv,
        doc="fault categories an agent picks when opening a service case",
    )
    priority_classes: tuple[str, ...] = _setting(
        ("emergency", "callback", "normal"), _csv, doc="ticket classes, highest first"
    )
    offer_timeout_s: float = _setting(20.0, float, doc="an agent has this long to accept an offer")
    max_missed_offers: int = _setting(2, int, doc="consecutive missed offers before an agent goes away")
    heartbeat_grace_s: float = _setting(30.0, float, doc="a silent customer keeps their place this long")
    aging_points_per_min: float = _setting(
        1.0, float, doc="priority a waiting ticket gains per minute (the first class stays above all)"
    )
    class_gap_points: float = _setting(
        10.0, float, doc="priority points between adjacent classes below the first (docs/queue.md)"
    )
    offer_retry_s: float = _setting(5.0, float, doc="after a missed offer, the agent's next offer waits this")
    queue_events_maxlen: int = _setting(100_000, int, doc="queue events kept in the Redis stream (about)")
    finished_ticket_keep_s: int = _setting(3600, int, doc="ended/abandoned tickets stay readable this long")
    sweep_interval_s: float = _setting(
        1.0, float, doc="how often each process expires due offers and silent customers"
    )
    # Opening hours (signlink/hours; edited on /staff/hours)
    hours_default_time_zone: str = _setting(
        "Asia/Shanghai", doc="time zone a line gets when a supervisor first gives it hours (IANA name)"
    )
    hours_cache_s: float = _setting(
        5.0, float, doc="each process re-reads the opening hours this often (a change shows within it)"
    )
    hours_closing_notice_s: float = _setting(
        1800.0, float, doc="the waiting room says 'we close in N minutes' from this long before closing"
    )
    # Video mail (a message recorded in the browser when nobody can answer)
    video_mail_max_s: int = _setting(90, int, doc="longest video message a customer may record, seconds")
    video_mail_max_bytes: int = _setting(
        24_000_000, int, doc="largest video message accepted (90 s at about 2 Mbit/s); 413 beyond"
    )
    video_mail_chunk_bytes: int = _setting(
        262_144, int, doc="bytes per upload chunk (each stored in PostgreSQL as it arrives)"
    )
    video_mail_retention_days: int = _setting(
        90, int, doc="video messages (and their video) are deleted this many days after they were sent"
    )
    video_mail_long_wait_s: float = _setting(
        600.0, float, doc="the waiting room offers a video message when the estimate is longer than this"
    )
    public_url: str = _setting(
        "",
        doc="the service's address for links in e-mails (https://help.example.com); empty: the request's",
    )
    # E-mail (SMTP)
    smtp_host: str = _setting("", doc="SMTP server for e-mail to customers; empty: no e-mail is sent")
    smtp_port: int = _setting(587, int, doc="SMTP port")
    smtp_username: str = _setting("", doc="SMTP login (empty: none)")
    smtp_password: str = _setting("", doc="SMTP password")
    smtp_starttls: bool = _setting(True, _bool, doc="upgrade the SMTP connection with STARTTLS")
    smtp_from: str = _setting("signlink <noreply@localhost>", doc="the From: of e-mails")
    # Sessions and security
    secure_cookies: bool = _setting(False, _bool, doc="mark cookies Secure (set behind HTTPS)")
    record_retention_days: int = _setting(
        90, int, doc="how long QA records are kept in PostgreSQL (whole months are dropped; up to 1826)"
    )
    # PostgreSQL, the system of record
    database_url: str = _setting(
        "",
        doc="PostgreSQL URL; empty: the local one (socket or 127.0.0.1:5432) if it lets us create our "
        "database, else a private postgres with data under var/postgres (migrated automatically)",
    )
    database_name: str = _setting("signlink", doc="the database used when SIGNLINK_DATABASE_URL is empty")
    database_pool_min: int = _setting(1, int, doc="PostgreSQL connections each process keeps open")
    database_pool_max: int = _setting(5, int, doc="most PostgreSQL connections of one process")
    recorder_batch: int = _setting(500, int, doc="events the recorder writes in one transaction")
    recorder_lag_alarm: int = _setting(
        20_000,
        int,
        doc="events not yet recorded beyond which /healthz and the log say the recorder is behind",
    )
    qa_service_level_s: float = _setting(
        120.0, float, doc="QA service level: answered within this (US relay rule: 80% in 120 s)"
    )
    qa_service_level_strict_s: float = _setting(30.0, float, doc="a stricter service level shown beside it")
    metrics_token: str = _setting("", doc="if set, GET /metrics needs `Authorization: Bearer <token>`")
    metrics_public: bool = _setting(
        False, _bool, doc="without a token, /metrics answers any address (default: loopback only)"
    )
    # Staff login
    session_lifetime_s: int = _setting(12 * 3600, int, doc="a staff login lasts this long (one shift)")
    login_window_s: int = _setting(900, int, doc="window for counting login attempts")
    login_max_per_user: int = _setting(5, int, doc="failed logins per username per window before 429")
    login_max_per_address: int = _setting(
        20, int, doc="failed logins per client address per window before 429 (offices share one address)"
    )
    login_max_per_user_overall: int = _setting(
        100, int, doc="failed logins per username from all addresses together per window before 429"
    )
    # Anonymous endpoints: requests per minute, per client address and overall (0 = no limit)
    limit_tickets_per_address: int = _setting(30, int, doc="POST /api/tickets per minute per address")
    limit_tickets_overall: int = _setting(3000, int, doc="POST /api/tickets per minute from everyone")
    limit_ratings_per_address: int = _setting(10, int, doc="POST /api/ratings per minute per address")
    limit_ratings_overall: int = _setting(1000, int, doc="POST /api/ratings per minute from everyone")
    limit_checks_per_address: int = _setting(30, int, doc="POST /api/checks per minute per address")
    limit_checks_overall: int = _setting(600, int, doc="POST /api/checks per minute from everyone")
    password_min_length: int = _setting(12, int, doc="shortest staff password accepted")
    allowed_origins: tuple[str, ...] = _setting(
        (), _csv, doc="origins besides the request's own Host allowed to POST (e.g. behind a proxy)"
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (), _csv, doc="load balancer addresses whose X-Forwarded-For names the client (per-address limits)"
    )
    # The call's WebSocket (/ws)
    ws_max_message_bytes: int = _setting(65536, int, doc="largest WebSocket message (close 1009 beyond)")
    ws_rate_per_s: float = _setting(50.0, float, doc="messages per second one WebSocket may send on average")
    ws_rate_burst: int = _setting(100, int, doc="messages one WebSocket may send in a burst")
    ws_hello_timeout_s: float = _setting(10.0, float, doc="a new WebSocket must say hello within this")
    call_presence_interval_s: float = _setting(
        2.0, float, doc="how often each process vouches for its call sockets (a dead process shows after 3x)"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read SIGNLINK_<FIELD> for each field; names the variable in any error."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"SIGNLINK_{f.name.upper()}"
            if name not in source:
                continue
            parse = f.metadata["parse"]
            try:
                values[f.name] = parse(source[name])
            except ValueError as exc:
                raise ConfigError(f"{name}={source[name]!r} is not valid: {exc}") from exc
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"SIGNLINK_PORT must be 1-65535, got {self.port}")
        for names, broken, complaint in _RULES:
            for name in names:
                if broken(getattr(self, name)):
                    raise ConfigError(f"SIGNLINK_{name.upper()} {complaint}")
        if self.database_pool_max < self.database_pool_min:
            raise ConfigError("SIGNLINK_DATABASE_POOL_MAX must be at least SIGNLINK_DATABASE_POOL_MIN")
        if "emergency" in self.priority_classes and self.priority_classes[0] != "emergency":
            raise ConfigError("SIGNLINK_PRIORITY_CLASSES: emergency must come first (it goes above all)")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests use this)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        settings = Settings(**values)
        settings.validate()
        return settings


# The range rules of validate(): which fields each applies to, kept as data so a new setting is one word.
_AT_LEAST_ONE = (
    "check_max_candidates",
    "check_max_per_address",
    "check_watch_max_concurrent",
    "check_watch_ttl_s",
    "check_max_concurrent",
    "check_max_offer_bytes",
    "max_missed_offers",
    "session_lifetime_s",
    "login_window_s",
    "login_max_per_user",
    "login_max_per_address",
    "ws_max_message_bytes",
    "ws_rate_burst",
    "record_retention_days",
    "database_pool_min",
    "recorder_batch",
    "recorder_lag_alarm",
)
_POSITIVE = (
    "check_no_media_s",
    "check_watch_max_s",
    "check_watch_analysis_fps",
    "check_watch_window_s",
    "check_timeout_s",
    "check_analysis_fps",
    "check_window_s",
    "offer_timeout_s",
    "ws_rate_per_s",
    "ws_hello_timeout_s",
    "call_presence_interval_s",
    "qa_service_level_s",
    "qa_service_level_strict_s",
)
_NOT_NEGATIVE = ("aging_points_per_min", "class_gap_points", "offer_retry_s", "heartbeat_grace_s")
_NON_EMPTY = ("sign_languages", "topics", "priority_classes", "case_categories")
_RULES: tuple[tuple[tuple[str, ...], Callable[[Any], bool], str], ...] = (
    (_AT_LEAST_ONE, lambda value: value < 1, "must be at least 1"),
    (_POSITIVE, lambda value: value <= 0, "must be positive"),
    (_NOT_NEGATIVE, lambda value: value < 0, "must not be negative"),
    (_NON_EMPTY, lambda value: not value, "must list at least one value"),
)


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, description) for each setting: the README table is made from this."""
    rows = []
    for f in fields(Settings):
        default = f.default
        if isinstance(default, tuple):
            default = ",".join(default)
        elif isinstance(default, Path) and default.is_relative_to(PROJECT_ROOT):
            default = default.relative_to(PROJECT_ROOT)
        rows.append((f"SIGNLINK_{f.name.upper()}", str(default), f.metadata["doc"]))
    return rows
