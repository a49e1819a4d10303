"""Lua scripts of the account store (loaded by signlink.redisio.lua)."""
