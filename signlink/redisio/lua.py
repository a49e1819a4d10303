"""Lua scripts, loaded one way: real .lua files read once with importlib.resources, run by EVALSHA.

A script that Redis does not know (a restart, a failover to a replica, SCRIPT FLUSH, a Cluster node
that never saw it) answers NOSCRIPT; it is loaded with SCRIPT LOAD and run again, once. Scripts get
every key through KEYS and never build key names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

from signlink.redisio.client import RedisClient

Arg = str | bytes | int | float


class LuaScript:
    """One script: `await script(client, keys, args)`."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.sha = hashlib.sha1(source.encode("utf-8")).hexdigest()

    async def __call__(self, client: RedisClient, keys: Sequence[Arg], args: Sequence[Arg] = ()) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            # On Cluster, SCRIPT LOAD goes to every primary (redis-py routes it so).
            await client.script_load(self.source)
            return await client.evalsha(self.sha, len(keys), *keys, *args)


@cache
def _text(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def load(package: str, name: str, *, lib: str | None = None) -> LuaScript:
    """`<package>/<name>.lua`, with `<package>/<lib>.lua` in front when given (shared helpers)."""
    body = _text(package, f"{name}.lua")
    source = f"{_text(package, f'{lib}.lua')}\n{body}" if lib else body
    return LuaScript(name, source)
