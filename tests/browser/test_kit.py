"""The browser-test kit itself: a missing browser fails the run, it never skips it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import browser


def test_missing_chromium_fails_and_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match=r"scripts/system-deps\.sh test"):
        browser.chromium_path()


def test_missing_axe_fails_and_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "AXE", tmp_path / "axe.min.js")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        browser.axe_source()


def test_fake_camera_clip_is_640x480_y4m(tmp_path: Path, media: Path) -> None:
    cameras = browser.FakeCameras(tmp_path)
    clip = cameras.make(media / "images/negative/skimage_coffee.png", seconds=0.2)
    header = clip.read_bytes()[:64].split(b"\n", 1)[0].split()
    assert header[0] == b"YUV4MPEG2"
    assert {b"W640", b"H480", b"F30:1"} <= set(header)
    assert cameras.make(media / "images/negative/skimage_coffee.png", seconds=0.2) == clip  # cached
