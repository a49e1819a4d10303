"""Where the shared test media lives: ../shared/media or $SIGNLINK_TEST_MEDIA.

In CI (CI=true) missing media is an error; on a stranger's clone the tests that need it skip and
say how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
HOW_TO_GET = (
    "test media not found: set SIGNLINK_TEST_MEDIA or put the shared media folder at ../shared/media "
    "(its MANIFEST.tsv names the public sources of every file)"
)


def media_dir() -> Path:
    configured = os.environ.get("SIGNLINK_TEST_MEDIA")
    path = Path(configured) if configured else PROJECT.parent / "shared" / "media"
    if not (path / "MANIFEST.tsv").is_file():
        if os.environ.get("CI"):
            pytest.fail(HOW_TO_GET)
        pytest.skip(HOW_TO_GET)
    return path
