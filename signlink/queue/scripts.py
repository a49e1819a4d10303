"""The queue's Lua scripts: real .lua files in signlink/queue/lua, read once with importlib.resources.

Each operation's script is lib.lua (the shared KEYS layout, records, routing) followed by its own file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

OPERATIONS = (
    "join",
    "heartbeat",
    "vouch",
    "leave",
    "transfer",
    "login",
    "ready",
    "away",
    "agent_heartbeat",
    "accept",
    "decline",
    "end_session",
    "sweep",
    "position",
    "snapshot",
    "dump",
)


@cache
def source(operation: str) -> str:
    if operation not in OPERATIONS:
        raise ValueError(f"no queue script {operation!r}")
    folder = resources.files("signlink.queue.lua")
    lib = folder.joinpath("lib.lua").read_text(encoding="utf-8")
    body = folder.joinpath(f"{operation}.lua").read_text(encoding="utf-8")
    return f"{lib}\n{body}"
