"""The queue's Lua scripts and the keys each one may touch, read from the .lua files themselves.

Each operation's script is lib.lua (context, records, routing) followed by its own file in
signlink/queue/lua, loaded through the Redis seam (signlink.redisio.lua). Which keys an operation
gets is worked out here from the source: the `K.<name>` keys and the skill-queue kinds
(`WAIT(`, `AGE(`, `IDLE(`) its file uses, plus those of every lib function it calls, transitively. So
the KEYS of a call are exactly what its code can reach, and a new use of a key in Lua needs no
Python change. Scripts that only read get no reply key (nothing to repeat safely).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from signlink.redisio.lua import LuaScript, load

PACKAGE = "signlink.queue.lua"
OPERATIONS = (
    "join",
    "heartbeat",
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
READ_ONLY = frozenset({"position", "snapshot", "dump"})
PAIR_KINDS = {"WAIT": "wait", "AGE": "age", "IDLE": "idle"}

_FUNCTION = re.compile(r"^local function (\w+)\(", re.MULTILINE)
_KEY = re.compile(r"\bK\.(\w+)")
_PAIR = re.compile(r"\b(WAIT|AGE|IDLE)\(")
_CALL = re.compile(r"\b(\w+)\(")


@dataclass(frozen=True)
class Manifest:
    """The keys an operation touches: the queue's own keys by name and the kinds of skill-queue keys."""

    names: tuple[str, ...]
    pair_kinds: tuple[str, ...]
    writes: bool


def _text(name: str) -> str:
    return resources.files(PACKAGE).joinpath(f"{name}.lua").read_text(encoding="utf-8")


def _uses(code: str) -> tuple[set[str], set[str], set[str]]:
    body = "\n".join(line.split("--", 1)[0] for line in code.splitlines())  # comments do not count
    return (
        set(_KEY.findall(body)) - {"reply"},
        {PAIR_KINDS[k] for k in _PAIR.findall(body)},
        set(_CALL.findall(body)),
    )


@cache
def _lib() -> dict[str, tuple[set[str], set[str], set[str]]]:
    """lib.lua's functions: name -> (keys, pair kinds, names called)."""
    text = _text("lib")
    starts = [(m.start(), m.group(1)) for m in _FUNCTION.finditer(text)]
    out = {}
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out[name] = _uses(text[start:end])
    return out


@cache
def manifest(operation: str) -> Manifest:
    if operation not in OPERATIONS:
        raise ValueError(f"no queue script {operation!r}")
    lib = _lib()
    keys, kinds, calls = _uses(_text(operation))
    seen: set[str] = set()
    todo = [c for c in calls if c in lib]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        k, p, c = lib[name]
        keys |= k
        kinds |= p
        todo += [x for x in c if x in lib and x not in seen]
    order = list(PAIR_KINDS.values())
    return Manifest(tuple(sorted(keys)), tuple(sorted(kinds, key=order.index)), operation not in READ_ONLY)


@cache
def script(operation: str) -> LuaScript:
    if operation not in OPERATIONS:
        raise ValueError(f"no queue script {operation!r}")
    return load(PACKAGE, operation, lib="lib")
