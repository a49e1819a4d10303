"""Staff accounts: who may log in, with which role, serving which sign languages and topics.

Validation lives here so the CLI and the web layer refuse the same things with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from signlink.errors import BadRequest

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
DISPLAY_NAME_MAX = 64


class Role(StrEnum):
    """What a staff member may reach. ADMIN passes every role check (see web.auth.require_role)."""

    AGENT = "agent"
    QA = "qa"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


def normalise_username(raw: str) -> str:
    """Usernames compare case-insensitively: `Ana` and `ana` are one account."""
    return raw.strip().lower()


def validate_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_RE.fullmatch(username):
        raise BadRequest(
            "a username is 2-32 characters: letters a-z, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            status=422,
            code="bad_username",
        )
    return username


def validate_display_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw.strip())
    if not name or len(name) > DISPLAY_NAME_MAX:
        raise BadRequest(f"a display name is 1-{DISPLAY_NAME_MAX} characters", status=422, code="bad_name")
    # Control and format characters (newlines, bidi overrides) would garble lists and headers.
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name):
        raise BadRequest("a display name cannot contain control characters", status=422, code="bad_name")
    return name


def validate_skills(
    role: Role,
    languages: Iterable[str],
    topics: Iterable[str],
    *,
    allowed_languages: Iterable[str],
    allowed_topics: Iterable[str],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Skills must be ones the service offers; an agent needs at least one language and one topic."""
    langs = _dedupe(languages)
    tops = _dedupe(topics)
    allowed_l, allowed_t = tuple(allowed_languages), tuple(allowed_topics)
    unknown_l = [x for x in langs if x not in allowed_l]
    if unknown_l:
        raise BadRequest(
            f"unknown sign language {', '.join(unknown_l)}; served: {', '.join(allowed_l)}",
            status=422,
            code="bad_skill",
        )
    unknown_t = [x for x in tops if x not in allowed_t]
    if unknown_t:
        raise BadRequest(
            f"unknown topic {', '.join(unknown_t)}; offered: {', '.join(allowed_t)}",
            status=422,
            code="bad_skill",
        )
    if role is Role.AGENT and not (langs and tops):
        raise BadRequest(
            "an agent needs at least one sign language and one topic", status=422, code="bad_skill"
        )
    return langs, tops


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if cleaned := value.strip():
            seen.setdefault(cleaned, None)
    return tuple(seen)


@dataclass(frozen=True)
class Account:
    """A staff member. The password hash is not part of it: it never leaves the store by accident."""

    username: str
    display_name: str
    role: Role
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    created_at: float = 0.0
    disabled: bool = False

    def to_fields(self) -> dict[str, str]:
        """The account as a flat Redis hash."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "languages": ",".join(self.languages),
            "topics": ",".join(self.topics),
            "created_at": repr(self.created_at),
            "disabled": "1" if self.disabled else "0",
        }

    @classmethod
    def from_fields(cls, data: dict[str, str]) -> Account:
        return cls(
            username=data["username"],
            display_name=data["display_name"],
            role=Role(data["role"]),
            languages=tuple(x for x in data.get("languages", "").split(",") if x),
            topics=tuple(x for x in data.get("topics", "").split(",") if x),
            created_at=float(data.get("created_at", "0")),
            disabled=data.get("disabled") == "1",
        )


@dataclass(frozen=True)
class Session:
    """A logged-in browser. `id` is the cookie value: secret, never logged, stored only hashed."""

    id: str
    username: str
    csrf_token: str
    created_at: float
    expires_at: float
