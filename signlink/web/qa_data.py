"""Where the QA pages get their figures: the records backend, in the JSON API's shapes.

The pages render exactly what the API answers (docs/protocol.md, "QA API"), so a page and an export
can never disagree. This module is the pages' only door to the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from signlink.web import keys


async def summary(request: web.Request, filters: Mapping[str, str]) -> dict[str, Any]:
    raise NotImplementedError


async def timeseries(request: web.Request, filters: Mapping[str, str], *, bucket: str) -> dict[str, Any]:
    raise NotImplementedError


async def agents(request: web.Request, filters: Mapping[str, str]) -> dict[str, Any]:
    raise NotImplementedError


async def sessions(
    request: web.Request, filters: Mapping[str, str], *, limit: int, cursor: str
) -> dict[str, Any]:
    raise NotImplementedError


async def session(request: web.Request, ticket_id: str) -> dict[str, Any]:
    raise NotImplementedError


async def live(request: web.Request) -> dict[str, Any]:
    snapshot = await request.app[keys.QUEUE].snapshot()
    return {
        "at": snapshot.at,
        "waiting": snapshot.waiting,
        "longest_wait_s": snapshot.longest_wait_s,
        "lines": [
            {
                "language": line.language,
                "topic": line.topic,
                "waiting": line.waiting,
                "offered": line.offered,
                "longest_wait_s": line.longest_wait_s,
                "online_agents": line.online_agents,
                "serving_agents": line.serving_agents,
            }
            for line in snapshot.lines
        ],
        "agents": {status.value: count for status, count in snapshot.agents.items()},
    }
