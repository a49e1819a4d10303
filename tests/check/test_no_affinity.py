"""Two processes on one Redis, no affinity: either answers events, sender reports and DELETE for a check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from signlink.web import keys
from tests.check.conftest import App
from tests.check.whip_client import ClipTrack, EncodedClip, events, final_verdict, publish

StartApp = Callable[..., Awaitable[App]]


async def test_the_other_process_streams_the_events_and_the_verdict(
    start_app: StartApp, good_clip: EncodedClip
) -> None:
    owner, other = await start_app(), await start_app()
    check = await publish(owner.session, str(owner.make_url("/api/checks")), ClipTrack(good_clip))
    try:
        check_id = check.url.rsplit("/", 1)[1]
        verdict, feedback = await final_verdict(
            other.session, str(other.make_url(f"/api/checks/{check_id}/events"))
        )
    finally:
        await check.pc.close()
    assert verdict["outcome"] == "passed" and verdict["verdict_id"]
    assert feedback >= 1
    async with other.get(f"/api/verdicts/{verdict['verdict_id']}") as response:
        assert response.status == 200


async def test_the_other_process_forwards_sender_reports_and_delete(
    start_app: StartApp, no_hands_clip: EncodedClip
) -> None:
    owner, other = await start_app(check_timeout_s=20.0), await start_app()
    check = await publish(owner.session, str(owner.make_url("/api/checks")), ClipTrack(no_hands_clip))
    check_id = check.url.rsplit("/", 1)[1]
    try:
        async for name, data in events(other.session, str(other.make_url(f"/api/checks/{check_id}/events"))):
            if name == "feedback" and data["state"] == "analysing":
                assert isinstance(data["frames_analysed"], int)
                break
        async with other.post(f"/api/checks/{check_id}/sender", json={"track_muted": True}) as response:
            assert response.status == 204
        session = owner.app[keys.CHECKS].get(check_id)
        assert session.last_sender is not None and session.last_sender.track_muted is True
        async with other.post(f"/api/checks/{check_id}/sender", json={"fps": -3}) as response:
            assert response.status == 400  # the owner's validation, relayed
            assert (await response.json())["error"] == "bad_report"

        async with other.delete(f"/api/checks/{check_id}") as response:
            assert response.status == 204
        assert owner.app[keys.CHECKS].live_count == 0  # the owner's peer is closed when DELETE answers
        async with owner.get(f"/api/checks/{check_id}/events") as response:
            assert response.status == 200
    finally:
        await check.pc.close()
    async with other.get("/api/checks/nope/events") as response:
        assert response.status == 404


async def test_a_check_whose_owner_stopped_answering_is_check_lost(
    start_app: StartApp, no_hands_clip: EncodedClip
) -> None:
    owner, other = await start_app(check_timeout_s=20.0), await start_app()
    check = await publish(owner.session, str(owner.make_url("/api/checks")), ClipTrack(no_hands_clip))
    check_id = check.url.rsplit("/", 1)[1]
    try:
        await owner.app[keys.CHECK_RELAY].close()  # the owner no longer listens (as after a crash)
        async with other.get(f"/api/checks/{check_id}/events") as response:
            assert response.status == 503
            body = await response.json()
        assert body["error"] == "check_lost" and "start a new check" in body["message"]
        async with other.delete(f"/api/checks/{check_id}") as response:
            assert response.status == 503
    finally:
        await check.pc.close()


async def test_a_relayed_stream_whose_owner_falls_silent_ends_with_a_lost_event(
    start_app: StartApp, no_hands_clip: EncodedClip
) -> None:
    owner, other = await start_app(check_timeout_s=20.0), await start_app()
    check = await publish(owner.session, str(owner.make_url("/api/checks")), ClipTrack(no_hands_clip))
    check_id = check.url.rsplit("/", 1)[1]
    names: list[str] = []
    try:
        async for name, data in events(other.session, str(other.make_url(f"/api/checks/{check_id}/events"))):
            names.append(name)
            if name == "feedback" and len(names) == 2:
                await owner.app[keys.CHECK_RELAY].close()  # the owner stops mid-stream
            if name == "lost":
                assert data["error"] == "check_lost"
    finally:
        await check.pc.close()
    assert names[-1] == "lost" and "verdict" not in names
