"""The queue's Lua scripts (loaded by signlink/queue/scripts.py)."""
