"""Pure checks of a video message: its type by name and by its first bytes, its size, its metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from signlink.errors import BadRequest

TYPES = ("video/webm", "video/mp4")  # what MediaRecorder makes in Chromium/Firefox and in Safari
OUTCOMES = ("answered_by_mail", "called_back", "no_action")
REASONS = ("closed", "unserved", "long_wait")
FIELD_MAX = 100
EMAIL_MAX = 254


def base_type(mime: str) -> str:
    """`video/webm;codecs=vp8,opus` -> `video/webm`, or a clear 415."""
    base = mime.split(";", 1)[0].strip().lower()
    if base not in TYPES:
        raise BadRequest(
            f"a video message must be {' or '.join(TYPES)}, not {base or 'nothing'}",
            status=415,
            code="wrong_type",
        )
    return base


def sniff(mime: str, head: bytes) -> None:
    """The first bytes must be what the type says (EBML for WebM, an ftyp box for MP4)."""
    ok = head.startswith(b"\x1a\x45\xdf\xa3") if mime == "video/webm" else head[4:8] == b"ftyp"
    if not ok:
        raise BadRequest(f"the file is not a {mime} video", status=415, code="wrong_type")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewMail:
    language: str
    topic: str
    mime: str
    size: int
    duration_s: float | None
    device_model: str | None
    device_serial: str | None
    email: str | None
    locale: str
    reason: str

    def __post_init__(self) -> None:
        for name in ("device_model", "device_serial"):
            value = getattr(self, name)
            if value is not None and len(value) > FIELD_MAX:
                raise BadRequest(f"{name} is longer than {FIELD_MAX} characters", code="bad_field")
        if self.email is not None and (len(self.email) > EMAIL_MAX or "@" not in self.email[1:-1]):
            raise BadRequest("email is not an e-mail address", code="bad_field")
        if self.reason not in REASONS:
            raise BadRequest(f"reason must be one of {', '.join(REASONS)}", code="bad_field")
        if self.size < 1:
            raise BadRequest("size must be a positive number of bytes", code="bad_field")
