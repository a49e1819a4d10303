"""The one exception hierarchy of signlink.

SignlinkError
├── ConfigError            a SIGNLINK_* variable is missing or invalid (the process refuses to start)
├── ModelError             the hand / face model files are absent or corrupt (refuses to start)
├── BadRequest             the client sent something invalid (HTTP 400 / 413 / 415 / 422)
├── NotFound               the thing asked for does not exist (HTTP 404)
├── Conflict               the request clashes with current state (HTTP 409)
├── Forbidden              the caller may not do this (HTTP 403)
├── Overloaded             a limit is reached; retry later (HTTP 503, or 429 per client, + Retry-After)
├── MediaError             a video file or stream cannot be decoded
└── BackendUnavailable     Redis (or another backend) cannot be reached (HTTP 503)

The web layer maps these to HTTP statuses in one place (signlink/web/middleware.py).
"""

from __future__ import annotations


class SignlinkError(Exception):
    """Base of every error signlink raises on purpose."""

    code = "error"


class ConfigError(SignlinkError):
    code = "config"


class ModelError(SignlinkError):
    code = "model"


class BadRequest(SignlinkError):
    code = "bad_request"

    def __init__(self, message: str, *, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        if code is not None:
            self.code = code


class NotFound(SignlinkError):
    code = "not_found"


class Conflict(SignlinkError):
    code = "conflict"


class Forbidden(SignlinkError):
    code = "forbidden"


class Overloaded(SignlinkError):
    code = "overloaded"

    def __init__(self, message: str, *, retry_after_s: int, status: int = 503) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.status = status  # 503: this server is full; 429: this client holds too much


class MediaError(SignlinkError):
    code = "media"


class BackendUnavailable(SignlinkError):
    code = "backend_unavailable"
