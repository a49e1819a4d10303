"""Typed keys for what the app keeps in its state (aiohttp AppKey)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web
from redis.asyncio import Redis

from signlink.config import Settings
from signlink.redisio import RedisClient

if TYPE_CHECKING:
    from signlink.accounts import AccountStore, Passwords
    from signlink.check.latest import LatestStates
    from signlink.check.relay import CheckRelay
    from signlink.check.service import CheckService
    from signlink.db.database import Database
    from signlink.queue.store import QueueStore
    from signlink.records.recorder import Recorder
    from signlink.records.reports import Reports
    from signlink.records.sessions import SessionRecords
    from signlink.records.store import RecordStore
    from signlink.records.verdicts import VerdictStore
    from signlink.signaling.calls import CallService
    from signlink.web.health import Health

SETTINGS = web.AppKey("settings", Settings)
REDIS: web.AppKey[RedisClient] = web.AppKey("redis", Redis)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
HEALTH: web.AppKey[Health] = web.AppKey("health")
ACCOUNTS: web.AppKey[AccountStore] = web.AppKey("accounts")
PASSWORDS: web.AppKey[Passwords] = web.AppKey("passwords")
CHECKS: web.AppKey[CheckService] = web.AppKey("checks")
VERDICTS: web.AppKey[VerdictStore] = web.AppKey("verdicts")
LATEST_CHECKS: web.AppKey[LatestStates] = web.AppKey("latest_checks")
CHECK_RELAY: web.AppKey[CheckRelay] = web.AppKey("check_relay")
QUEUE: web.AppKey[QueueStore] = web.AppKey("queue")
CALLS: web.AppKey[CallService] = web.AppKey("calls")
SESSIONS: web.AppKey[SessionRecords] = web.AppKey("sessions")
DATABASE: web.AppKey[Database] = web.AppKey("database")
RECORDS: web.AppKey[RecordStore] = web.AppKey("records")
REPORTS: web.AppKey[Reports] = web.AppKey("reports")
RECORDER: web.AppKey[Recorder] = web.AppKey("recorder")
