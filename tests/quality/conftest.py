"""Fixtures for the analyser tests: the real models, one analyser per test, decoded clips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from signlink import modelfiles
from signlink.config import PROJECT_ROOT
from signlink.quality.analyser import Analyser
from tests.quality.clips import Clip, decode, ping_pong
from tests.quality.encoded import EncodedClips


@pytest.fixture(scope="session")
def models() -> tuple[Path, Path]:
    return modelfiles.verify(PROJECT_ROOT / "models")


@pytest.fixture
def analyser(models: tuple[Path, Path]) -> Iterator[Analyser]:
    with Analyser(*models) as fresh:
        yield fresh


@pytest.fixture(scope="session")
def thumbs_up(media: Path) -> Clip:
    """2 s of a well-lit woman on a black background, thumb up, face in view (640x360, 25 fps)."""
    return decode(media / "videos/mps_woman_face_then_thumbsup_8s.mp4", start_s=2.4, end_s=4.4)


@pytest.fixture(scope="session")
def signer(media: Path) -> Clip:
    """A signer, head to waist, both hands up: the 0.4 s clip played back and forth for 3 s (1280x720).

    3 s: a freeze is judged over 2 s of pictures, so a frozen copy needs that long to fail."""
    return ping_pong(decode(media / "videos/pose_signer_man_0.4s.mp4", width=1280), seconds=3.0)


@pytest.fixture(scope="session")
def encoded(media: Path, tmp_path_factory: pytest.TempPathFactory) -> EncodedClips:
    """Clips through real encoders, each built once per test session."""
    return EncodedClips(media, tmp_path_factory.mktemp("encoded"))
