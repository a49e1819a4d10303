"""Where the QA pages get their figures: the same functions that answer the QA JSON API.

The pages render exactly what the API answers (docs/protocol.md, "QA API"), so a page, the API and
the CSV export can never disagree. Filters go in as the page received them; the API's parser checks
them (BadRequest for a malformed one). This module is the pages' only door to the records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from signlink.web import qa_api


async def summary(request: web.Request, filters: Mapping[str, str]) -> dict[str, Any]:
    return await qa_api.summary_data(request, filters)


async def timeseries(request: web.Request, filters: Mapping[str, str]) -> dict[str, Any]:
    """Hourly points for a period up to three days, else daily (the API's choice); see `bucket_s`."""
    return await qa_api.timeseries_data(request, filters)


async def agents(request: web.Request, filters: Mapping[str, str]) -> dict[str, Any]:
    return await qa_api.agents_data(request, filters)


async def sessions(
    request: web.Request, filters: Mapping[str, str], *, limit: int, cursor: str
) -> dict[str, Any]:
    return await qa_api.sessions_data(request, filters, limit=limit, cursor=cursor or None)


async def session(request: web.Request, ticket_id: str) -> dict[str, Any]:
    return await qa_api.session_data(request, ticket_id)


async def live(request: web.Request) -> dict[str, Any]:
    return await qa_api.live_data(request)
