"""The Redis seam: key names (keyspace.py), Lua scripts (lua.py), clients for every URL form (client.py).

Stores receive a Keyspace and a client; nothing outside this package builds a key prefix or loads Lua.
"""

from signlink.redisio.client import RedisClient, RedisTarget, connect, is_cluster, parse_url
from signlink.redisio.keyspace import OWNERS, Keyspace, as_keyspace, keyspace_for
from signlink.redisio.lua import LuaScript, load

__all__ = [
    "OWNERS",
    "Keyspace",
    "LuaScript",
    "RedisClient",
    "RedisTarget",
    "as_keyspace",
    "connect",
    "is_cluster",
    "keyspace_for",
    "load",
    "parse_url",
]
