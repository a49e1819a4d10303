"""Lua scripts of the web layer (request limits), loaded through signlink.redisio.lua."""
