"""Where a page may send the browser next: only paths on this site (no open redirects)."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_NEXT_LENGTH = 2000


def safe_next(value: str | None) -> str | None:
    """`value` if it is a same-site path ("/..." but not "//..." or "/\\..."), else None.

    Browsers read a backslash as a slash and "//host" as another site: both would make the page an
    open redirect, so both are refused, as are control characters and anything with a scheme or host.
    """
    if not value or len(value) > MAX_NEXT_LENGTH or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
