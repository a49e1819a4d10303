"""Video mail through the real app and PostgreSQL: chunked upload, resume after an interruption and a
server restart, checks with clear errors, access by sign language, handling, QA counts."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from signlink.accounts import Role
from signlink.config import Settings
from signlink.web.app import create_app
from signlink.web.video_mail_api import VIDEO_MAIL
from tests.support.staff import add_account, csrf_token, login

App = TestClient[Any, Any]
CHUNK = 4096
# A WebM starts with the EBML magic; the rest is filler (the server stores bytes, it does not decode).
VIDEO = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 60


@pytest.fixture
def vm_settings(settings: Settings) -> Settings:
    return settings.replace(video_mail_chunk_bytes=CHUNK, video_mail_max_bytes=100_000)


async def app_of(aiohttp_client: AiohttpClient, settings: Settings) -> App:
    client: App = await aiohttp_client(create_app(settings))
    return client


async def announce(app: App, **extra: Any) -> dict[str, Any]:
    body = {
        "language": "CSL",
        "topic": "phone",
        "mime": "video/webm;codecs=vp8",
        "size": len(VIDEO),
        "duration_s": 12.5,
        "device_model": "Mate 60",
        "email": "li@example.com",
        "locale": "zh-CN",
        **extra,
    }
    response = await app.post("/api/video-mail", json=body)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def put(app: App, created: dict[str, Any], offset: int, data: bytes) -> Any:
    return await app.put(
        f"{created['upload_url']}?offset={offset}",
        data=data,
        headers={"Authorization": f"Bearer {created['token']}", "Content-Type": "application/octet-stream"},
    )


async def upload_from(app: App, created: dict[str, Any], start: int, stop: int) -> int:
    offset = start
    while offset < stop:
        chunk = VIDEO[offset : min(offset + CHUNK, stop)]
        response = await put(app, created, offset, chunk)
        assert response.status == 200, await response.text()
        offset = (await response.json())["received"]
    return offset


async def test_interrupted_upload_resumes_after_a_restart_and_nothing_sent_is_lost(
    aiohttp_client: AiohttpClient, vm_settings: Settings, redis: Redis
) -> None:
    first = await app_of(aiohttp_client, vm_settings)
    created = await announce(first)
    half = await upload_from(first, created, 0, 3 * CHUNK)
    # A chunk cut off mid-way never reaches the store: its retry at the same offset is what counts.
    again = await put(first, created, 0, VIDEO[:CHUNK])  # a retry whose answer was lost: accepted as is
    assert again.status == 200 and (await again.json())["received"] == half
    gap = await put(first, created, half + 10, VIDEO[half + 10 : half + 20])
    assert gap.status == 409 and (await gap.json())["received"] == half
    early = await first.post(
        f"{created['upload_url']}/send", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert early.status == 409  # not every byte is there: not "sent"
    await first.close()

    second = await app_of(aiohttp_client, vm_settings)  # the server restarted
    auth = {"Authorization": f"Bearer {created['token']}"}
    status = await (await second.get(created["upload_url"], headers=auth)).json()
    assert status == {"received": half, "size": len(VIDEO), "state": "uploading"}
    assert await upload_from(second, created, half, len(VIDEO)) == len(VIDEO)
    sent = await second.post(f"{created['upload_url']}/send", headers=auth)
    assert sent.status == 200 and (await sent.json())["state"] == "sent"
    await second.close()

    third = await app_of(aiohttp_client, vm_settings)  # and again: what was sent is there, byte for byte
    await add_account(vm_settings, redis, "ana", role=Role.AGENT, languages=("CSL",))
    await login(third, "ana")
    inbox = (await (await third.get("/api/staff/video-mail")).json())["messages"]
    assert [m["id"] for m in inbox] == [created["id"]]
    assert inbox[0]["device_model"] == "Mate 60" and inbox[0]["has_email"] is True
    assert "email" not in inbox[0]
    video = await third.get(inbox[0]["video_url"])
    assert video.status == 200 and video.headers["Content-Type"] == "video/webm"
    assert await video.read() == VIDEO


async def test_oversize_and_wrong_type_get_clear_errors(
    aiohttp_client: AiohttpClient, vm_settings: Settings
) -> None:
    app = await app_of(aiohttp_client, vm_settings)
    big = await app.post(
        "/api/video-mail", json={"language": "CSL", "topic": "phone", "mime": "video/webm", "size": 100_001}
    )
    assert big.status == 413 and (await big.json())["error"] == "too_large"
    assert "largest accepted is 100000" in (await big.json())["message"]
    long = await app.post(
        "/api/video-mail",
        json={"language": "CSL", "topic": "phone", "mime": "video/webm", "size": 10, "duration_s": 300},
    )
    assert long.status == 413 and (await long.json())["error"] == "too_long"
    wrong = await app.post(
        "/api/video-mail", json={"language": "CSL", "topic": "phone", "mime": "image/gif", "size": 10}
    )
    assert wrong.status == 415 and (await wrong.json())["error"] == "wrong_type"
    created = await announce(app)
    fake = await put(app, created, 0, b"GIF89a" + b"\0" * 100)  # says webm, is not
    assert fake.status == 415 and "not a video/webm" in (await fake.json())["message"]
    past = await put(app, created, 0, VIDEO[:CHUNK] + b"x")
    assert past.status == 413  # a chunk larger than the chunk size
    other = await app.put(
        f"{created['upload_url']}?offset=0", data=VIDEO[:10], headers={"Authorization": "Bearer " + "x" * 43}
    )
    assert other.status == 403  # another upload's token


async def test_only_agents_of_the_language_and_supervisors_see_it(
    aiohttp_client: AiohttpClient, vm_settings: Settings, redis: Redis
) -> None:
    app = await app_of(aiohttp_client, vm_settings)
    created = await announce(app)
    await upload_from(app, created, 0, len(VIDEO))
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert (await app.post(f"{created['upload_url']}/send", headers=auth)).status == 200
    assert (await app.get("/api/staff/video-mail")).status == 401  # a customer
    await add_account(vm_settings, redis, "bob", role=Role.AGENT, languages=("ASL",))
    await add_account(vm_settings, redis, "quinn", role=Role.QA)
    await add_account(vm_settings, redis, "sam", role=Role.SUPERVISOR)
    await login(app, "bob")
    assert (await (await app.get("/api/staff/video-mail")).json())["messages"] == []
    assert (await app.get(f"/api/staff/video-mail/{created['id']}/video")).status == 403
    await login(app, "quinn")
    assert (await app.get(f"/api/staff/video-mail/{created['id']}/video")).status == 403
    await login(app, "sam")
    assert len((await (await app.get("/api/staff/video-mail")).json())["messages"]) == 1


async def test_handled_with_an_outcome_and_counted_for_qa(
    aiohttp_client: AiohttpClient, vm_settings: Settings, redis: Redis
) -> None:
    app = await app_of(aiohttp_client, vm_settings)
    created = await announce(app, reason="long_wait")
    await upload_from(app, created, 0, len(VIDEO))
    assert (
        await app.post(
            f"{created['upload_url']}/send", headers={"Authorization": f"Bearer {created['token']}"}
        )
    ).status == 200
    await add_account(vm_settings, redis, "ana", role=Role.AGENT, languages=("CSL",))
    await login(app, "ana")
    token = await csrf_token(app)
    url = f"/api/staff/video-mail/{created['id']}/handled"
    bad = await app.post(url, json={"outcome": "ignored"}, headers={"X-CSRF-Token": token})
    assert bad.status == 400
    done = await app.post(url, json={"outcome": "called_back"}, headers={"X-CSRF-Token": token})
    body = await done.json()
    assert done.status == 200 and body["state"] == "handled" and body["handled_by"] == "ana"
    twice = await app.post(url, json={"outcome": "called_back"}, headers={"X-CSRF-Token": token})
    assert twice.status == 409
    assert (await app.get("/api/qa/video-mail")).status == 403  # an agent
    await add_account(vm_settings, redis, "quinn", role=Role.QA)
    await login(app, "quinn")
    qa = await (await app.get("/api/qa/video-mail?days=7")).json()
    assert qa["sent"] == 1 and qa["handled"] == 1 and qa["waiting"] == 0
    assert qa["outcomes"] == {"called_back": 1} and qa["reasons"] == {"long_wait": 1}
    assert qa["handle_median_s"] is not None and qa["handle_median_s"] >= 0


async def test_retention_deletes_old_messages_with_their_video_and_keeps_recent_ones(
    aiohttp_client: AiohttpClient, vm_settings: Settings
) -> None:
    app = await app_of(aiohttp_client, vm_settings)
    ids = []
    for _ in range(2):
        created = await announce(app)
        await upload_from(app, created, 0, len(VIDEO))
        auth = {"Authorization": f"Bearer {created['token']}"}
        assert (await app.post(f"{created['upload_url']}/send", headers=auth)).status == 200
        ids.append(created["id"])
    store = app.app[VIDEO_MAIL]
    await store.db.fetch(
        "UPDATE video_mails SET sent_at = now() - interval '91 days' WHERE id = $1 RETURNING id", ids[0]
    )
    assert await store.purge(90) == 1
    left = await store.db.fetch("SELECT DISTINCT mail_id FROM video_mail_chunks")
    assert [row["mail_id"] for row in left] == [ids[1]]
    assert (await store.get(ids[1])).state == "sent"
