"""Input checks at the queue's edge: pure functions, run before anything reaches Redis.

They raise BadRequest with a message that names the field; nothing deeper sees unchecked input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from signlink import ids
from signlink.config import Settings
from signlink.errors import BadRequest
from signlink.queue.models import JoinRequest

DEVICE_FIELD_MAX = 64  # device model / serial number, shown to the agent with the offer
NAME_MAX = 80
_TOKEN = ids.TOKEN
_ID = ids.ID
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        expected = ", ".join(allowed)
        raise BadRequest(f"unknown {field} {value!r}; expected one of {expected}", code="unknown_value")
    return value


def _text(field: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{field} is longer than {limit} characters", status=413, code="too_long")
    if _CONTROL.search(value):
        raise BadRequest(f"{field} contains control characters")
    return value or None


def check_id(field: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadRequest(f"{field} must be 1-64 letters, digits or _.:@-")
    return value


def check_join(request: JoinRequest, settings: Settings) -> JoinRequest:
    """The request with text fields trimmed, or BadRequest naming the first bad field."""
    if not _TOKEN.fullmatch(request.customer_token):
        raise BadRequest("customer_token must be 16-128 URL-safe characters")
    _choice("sign language", request.language, settings.sign_languages)
    _choice("topic", request.topic, settings.topics)
    _choice("priority class", request.priority_class, settings.priority_classes)
    verdict = request.verdict_id
    if verdict is not None:
        check_id("verdict_id", verdict)
    return JoinRequest(
        customer_token=request.customer_token,
        language=request.language,
        topic=request.topic,
        priority_class=request.priority_class,
        verdict_id=verdict,
        device_model=_text("device_model", request.device_model, DEVICE_FIELD_MAX),
        device_serial=_text("device_serial", request.device_serial, DEVICE_FIELD_MAX),
    )


def check_skills(
    languages: Iterable[str], topics: Iterable[str], settings: Settings
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """An agent's skills, de-duplicated in the configured order; at least one of each."""
    langs = set(languages)
    tops = set(topics)
    for lang in langs:
        _choice("sign language", lang, settings.sign_languages)
    for topic in tops:
        _choice("topic", topic, settings.topics)
    if not langs or not tops:
        raise BadRequest("an agent needs at least one sign language and one topic")
    return (
        tuple(x for x in settings.sign_languages if x in langs),
        tuple(x for x in settings.topics if x in tops),
    )


def check_name(name: str) -> str:
    checked = _text("name", name, NAME_MAX)
    return checked or ""
