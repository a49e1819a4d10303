"""Fixtures for the live check: encoded clips, an app factory, publishers closed after each test."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from signlink.config import Settings
from signlink.web.app import create_app
from tests.check.whip_client import (
    GOOD_CLIP,
    NO_HANDS_CLIP,
    ClipTrack,
    EncodedClip,
    Publication,
    clip_spec,
    encode_clip,
    publish,
)

App = TestClient[Any, Any]


@pytest.fixture(scope="session")
def clip_cache(pytestconfig: pytest.Config) -> Path:
    """Encoded clips survive between runs in pytest's cache (encoding takes seconds)."""
    cache = getattr(pytestconfig, "cache", None)  # -p no:cacheprovider: no attribute at all
    if cache is None:
        return Path(tempfile.mkdtemp(prefix="signlink-vp8-clips-"))
    return Path(cache.mkdir("signlink-vp8-clips"))


@pytest.fixture(scope="session")
def good_clip(media: Path, clip_cache: Path) -> EncodedClip:
    return encode_clip(clip_spec(media, GOOD_CLIP), cache_dir=clip_cache)


@pytest.fixture(scope="session")
def no_hands_clip(media: Path, clip_cache: Path) -> EncodedClip:
    return encode_clip(clip_spec(media, NO_HANDS_CLIP), cache_dir=clip_cache)


@pytest.fixture
def start_app(aiohttp_client: AiohttpClient, settings: Settings) -> Callable[..., Awaitable[App]]:
    """An app from the factory, with some settings changed (`check_max_concurrent=1`, ...)."""

    async def start(**changes: Any) -> App:
        return await aiohttp_client(create_app(settings.replace(**changes)))

    return start


@pytest.fixture
async def publisher() -> AsyncIterator[Callable[[App, EncodedClip], Awaitable[Publication]]]:
    """Publishes a clip into an app's POST /api/checks; every peer is closed after the test."""
    publications: list[Publication] = []

    async def start(app: App, clip: EncodedClip) -> Publication:
        publication = await publish(app.session, str(app.make_url("/api/checks")), ClipTrack(clip))
        publications.append(publication)
        return publication

    yield start
    for publication in publications:
        await publication.pc.close()
