"""Lua scripts of call presence (loaded by signlink.redisio.lua)."""
