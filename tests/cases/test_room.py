"""The cases room knows the database seam and nothing of the web, the queue or signalling."""

from __future__ import annotations

import ast
from pathlib import Path

import signlink.cases

FORBIDDEN = ("signlink.web", "signlink.queue", "signlink.signaling", "signlink.check", "aiohttp", "redis")


def test_cases_room_imports_no_web_queue_or_signaling() -> None:
    folder = Path(signlink.cases.__file__).parent
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert len(list(folder.glob("*.py"))) >= 8 and found == []
