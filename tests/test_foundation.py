"""Settings, the model check at start-up, the app factory and /healthz."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient

from signlink import modelfiles
from signlink.cli import main
from signlink.config import PROJECT_ROOT, Settings
from signlink.errors import ConfigError, ModelError
from signlink.web.app import create_app
from tests.support.redis_proc import RedisProcess


def test_settings_read_signlink_variables() -> None:
    settings = Settings.from_env({"SIGNLINK_PORT": "9000", "SIGNLINK_TOPICS": "phone, pc", "OTHER": "x"})
    assert settings.port == 9000
    assert settings.topics == ("phone", "pc")
    assert settings.check_max_concurrent == Settings().check_max_concurrent


def test_settings_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SIGNLINK_PORT"):
        Settings.from_env({"SIGNLINK_PORT": "eighty"})
    with pytest.raises(ConfigError, match="SIGNLINK_CHECK_TIMEOUT_S"):
        Settings.from_env({"SIGNLINK_CHECK_TIMEOUT_S": "0"})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_models_in_the_project_are_intact() -> None:
    bundle, face = modelfiles.verify(PROJECT_ROOT / "models")
    with zipfile.ZipFile(bundle) as zf:
        assert sorted(zf.namelist()) == ["hand_detector.tflite", "hand_landmarks_detector.tflite"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
    assert face.stat().st_size == modelfiles.FACE.size
    far_face = PROJECT_ROOT / "models" / modelfiles.FAR_FACE_MODEL
    assert far_face.stat().st_size == modelfiles.FAR_FACE.size


def test_missing_or_corrupt_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        modelfiles.verify(tmp_path)
    for name in modelfiles.MODEL_FILES:
        (tmp_path / name).write_bytes((PROJECT_ROOT / "models" / name).read_bytes())
    modelfiles.verify(tmp_path)
    # A checkout from before the full-range face model: refused, so `make models` rebuilds it.
    far_face = tmp_path / modelfiles.FAR_FACE_MODEL
    kept = far_face.read_bytes()
    far_face.unlink()
    with pytest.raises(ModelError, match=r"full_range_sparse\.tflite is missing"):
        modelfiles.verify(tmp_path)
    far_face.write_bytes(kept[:-1] + bytes([kept[-1] ^ 0xFF]))
    with pytest.raises(ModelError, match=r"full_range_sparse\.tflite has the wrong checksum"):
        modelfiles.verify(tmp_path)
    far_face.write_bytes(kept)
    face = tmp_path / modelfiles.FACE_MODEL
    data = face.read_bytes()
    face.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ModelError, match="corrupt"):
        modelfiles.verify(tmp_path)
    (tmp_path / modelfiles.HAND_BUNDLE).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a valid"):
        modelfiles.verify(tmp_path)


def test_serve_refuses_to_start_without_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNLINK_MODEL_DIR", str(tmp_path))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "missing" in err and "make models" in err


async def test_healthz_ok(aiohttp_client: AiohttpClient, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_healthz_degraded_while_redis_is_down_then_recovers(
    aiohttp_client: AiohttpClient, tmp_path: Path, database_url: str
) -> None:
    server = RedisProcess(tmp_path).start()
    client = await aiohttp_client(create_app(Settings(redis_url=server.url, database_url=database_url)))
    assert (await client.get("/healthz")).status == 200
    server.kill()
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["status"] == "degraded"
    restarted = RedisProcess(tmp_path, port=server.port).start()
    try:
        # 200 once Redis answers and this process listens again (bus, revocations, queue events).
        async with asyncio.timeout(10):
            while (response := await client.get("/healthz")).status != 200:
                assert (await response.json())["status"] == "degraded"
                await asyncio.sleep(0.02)
        body = await response.json()
        assert body == {
            "status": "ok",
            "redis": True,
            "bus": True,
            "revocations": True,
            "queue_events": True,
            "database": True,
            "recorder_behind_events": 0,
        }
    finally:
        restarted.stop()
