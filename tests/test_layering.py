"""Who may know whom: every `signlink` import obeys the table in the README's architecture section.

A new room (a folder or a top-level module under signlink/) needs its row here and in the README first.
"""

from __future__ import annotations

import ast
from pathlib import Path

from signlink.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "signlink"

# Leaf modules every room may use: settings, the error types, small shared vocabularies.
SHARED = {"config", "errors", "deadline", "ice", "ids", "jsonedge", "modelfiles"}

# room -> the other rooms it may import (besides SHARED). The README's table says the same in words.
MAY_USE: dict[str, set[str]] = {
    "quality": set(),  # pure: frames in, measurements and a verdict out
    "redisio": set(),  # the Redis seam
    "db": set(),  # the PostgreSQL seam
    "check": {"quality", "redisio"},
    "queue": {"redisio", "hours"},
    "hours": {"db"},
    "videomail": {"db"},  # the messages and their handling; the e-mail that links back
    "accounts": {"redisio"},
    "signaling": {"queue", "redisio"},
    # Event and verdict types; the live copies in Redis; writes only records.
    "records": {"db", "redisio", "queue", "check", "quality"},
    "cases": {"db", "hours"},
    "web": {"*"},
    "cli": {"*"},
    "__main__": {"*"},
    "redis_server": set(),
}
for _leaf in SHARED:
    MAY_USE.setdefault(_leaf, {"config", "errors"} - {_leaf})


def room_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if parts[-1] == "command.py":
        return "cli"  # a room's `signlink <room> ...` subcommand is the command line's part
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def imported_rooms(path: Path) -> set[str]:
    rooms: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "signlink":
                names = [f"signlink.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "signlink" and len(parts) > 1:
                rooms.add(parts[1])
    return rooms


def breaches() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        room = room_of(path)
        if room == "__init__":
            continue
        allowed = MAY_USE.get(room)
        assert allowed is not None, f"{path}: room {room!r} has no row in the layering table"
        if "*" in allowed:
            continue
        for used in imported_rooms(path) - {room} - SHARED - allowed:
            found.add((room, used, str(path.relative_to(PROJECT_ROOT))))
    return found


def test_every_import_obeys_the_table() -> None:
    found = breaches()
    assert not found, "imports that break the who-may-know-whom table:\n" + "\n".join(
        f"  {path}: {room} -> {used}" for room, used, path in sorted(found)
    )


def test_the_checker_sees_a_breach(tmp_path: Path) -> None:
    # The test can fail: an import of web from quality is caught.
    probe = tmp_path / "probe.py"
    probe.write_text("from signlink.web import app\nimport signlink.queue.store\n", "utf-8")
    assert imported_rooms(probe) == {"web", "queue"}
