"""What the customer APIs read from a request: a bounded JSON object, its text fields, the bearer token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signlink import ids, jsonedge
from signlink.errors import BadRequest

MAX_BODY_BYTES = 8 * 1024


async def json_object(request: web.Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object: 413 beyond `limit` bytes, 400 for bad JSON or another JSON type."""
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest("the request body is too large", status=413, code="too_large")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise BadRequest("the request body is too large", status=413, code="too_large")
    try:
        body = jsonedge.loads(raw)
    except jsonedge.EdgeError as exc:
        raise BadRequest(str(exc), code=exc.code) from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="malformed_json")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string field; None when absent or empty (400 when `required`), 400 when not a string."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required", code="bad_field")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", code="bad_field")
    return value


def bearer_token(request: web.Request) -> str | None:
    """The well-formed bearer token of the Authorization header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not ids.TOKEN.fullmatch(token.strip()):
        return None
    return token.strip()
