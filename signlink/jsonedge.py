"""JSON from clients, parsed at the edge with limits: nesting depth and string content checked once.

`loads(text)` returns the value or raises EdgeError with a short reason (the caller maps it to its own
error): nesting deeper than `max_depth`, a lone surrogate (not encodable as UTF-8, so it would fail
far from here), or malformed JSON. Control characters are refused field by field by whoever knows
whether a field is free text (newlines in chat are fine, in an id they are not).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 8  # the deepest documented message is signal.data.sdp (4)


class EdgeError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    try:
        value = json.loads(text)
    except RecursionError:
        raise EdgeError("too_deep", "the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise EdgeError("malformed_json", "the message is not valid JSON") from None
    check(value, max_depth=max_depth)
    return value


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Depth and string content of a parsed value (iterative: a deep value cannot recurse here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_str(item)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise EdgeError("too_deep", f"the JSON is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, inner in item.items():
                    _check_str(key)
                    stack.append((inner, depth + 1))
            else:
                stack.extend((inner, depth + 1) for inner in item)


def _check_str(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EdgeError("bad_text", "a string holds a lone surrogate (not valid Unicode)") from None
