"""The camera check page in real Chromium with a fake camera, against the real server and analyser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, Response, ViewportSize, expect

from signlink.config import Settings
from signlink.web import i18n
from tests.support.browser import FakeCameras, Launch, PageWatch, Serve, Shots, run_axe

pytestmark = pytest.mark.browser

# A woman facing the camera waving: hands in most frames (media/MANIFEST.tsv).
HANDS_CLIP = "videos/pose_webcam_woman_wave_2s.mp4"
# A person far away in a room: no hand big enough to detect.
NO_HANDS_CLIP = "videos/tfjs_person_far_in_room_4s.mp4"
CHECK_MS = 60_000  # ms: generous, the machine is shared; the server's own timeout ends a check sooner
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def shots() -> Shots:
    return Shots.from_env()


@pytest.fixture
def hands_camera(fake_cameras: FakeCameras, media: Path) -> Path:
    return fake_cameras.make(media / HANDS_CLIP, seconds=2)


@pytest.fixture
def no_hands_camera(fake_cameras: FakeCameras, media: Path) -> Path:
    return fake_cameras.make(media / NO_HANDS_CLIP, seconds=2)


async def open_check(
    browser: Browser, url: str, *, viewport: ViewportSize | None = None, scale: float | None = None
) -> tuple[Page, PageWatch]:
    context = await browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = await context.new_page()
    watch = PageWatch.attach(page)
    await page.goto(url)
    return page, watch


async def wait_for_state(page: Page, value: str | re.Pattern[str]) -> None:
    await expect(page.locator("#check")).to_have_attribute("data-state", value, timeout=CHECK_MS)


def row(page: Page, criterion: str) -> Locator:
    return page.locator(f'.criterion[data-criterion="{criterion}"]')


async def test_hands_in_view_reach_passed_and_continue_goes_to_next(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings)
    browser = await launch(hands_camera)
    page, watch = await open_check(browser, f"{base}/check?next=/after?ticket=7")
    await shots.take(page, "check-idle")
    await page.click("#start")
    await wait_for_state(page, "passed")
    await expect(page.locator("#status")).to_have_text(i18n.translate("en", "state.passed_announce"))
    await expect(row(page, "hands")).to_have_attribute("data-status", "pass")
    await expect(page.locator("#continue")).to_be_visible()
    settings_of_track = await page.evaluate(
        "() => { const t = document.getElementById('preview').srcObject.getVideoTracks()[0];"
        " return {hint: t.contentHint, w: t.getSettings().width, h: t.getSettings().height}; }"
    )
    assert settings_of_track == {"hint": "motion", "w": 640, "h": 480}
    await shots.take(page, "check-passed")
    assert watch.errors == [], watch.errors
    await page.click("#continue")
    await page.wait_for_url(re.compile(r"/after\?ticket=7&verdict=[^&]+$"))  # (/after is a 404 here)
    verdict_id = page.url.rsplit("verdict=", 1)[1]
    response = await page.request.get(f"{base}/api/verdicts/{verdict_id}")
    assert (await response.json())["passed"] is True


async def test_no_hands_fail_then_continue_anyway_is_recorded(
    launch: Launch, serve: Serve, settings: Settings, no_hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings.replace(check_timeout_s=4.0))
    browser = await launch(no_hands_camera)
    page, watch = await open_check(browser, f"{base}/check")
    await page.click("#start")
    await expect(row(page, "hands")).to_have_attribute("data-status", "fail", timeout=CHECK_MS)
    await wait_for_state(page, "failed")
    hands = row(page, "hands")
    await expect(hands.locator(".crit-message")).not_to_be_empty()
    await expect(hands.locator(".status-word")).to_have_text(i18n.translate("en", "status.fail"))
    # What to fix is also said right under the video, in the server's words.
    hands_message = await hands.locator(".crit-message").inner_text()
    await expect(page.locator('[data-panel="failed"] .fix-list')).to_contain_text(hands_message)
    await shots.take(page, "check-failed")

    # The server's message follows the language switch, without a new check.
    await page.click('a[data-lang="zh-CN"]')
    await expect(hands.locator(".crit-message")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
    await wait_for_state(page, "failed")
    await shots.take(page, "check-failed-zh-CN")
    await page.click('a[data-lang="en"]')

    # A time-out is already a repeated failure: "Continue anyway" is offered; a second failure too.
    await expect(page.locator("#continue-anyway")).to_be_visible()
    await page.click("#retry")
    await wait_for_state(page, "checking")
    await wait_for_state(page, "failed")
    await expect(page.locator("#continue-anyway")).to_be_visible()
    await page.click("#continue-anyway")
    await wait_for_state(page, "done")
    done = await page.locator("#done-text").inner_text()
    verdict_id = done.rsplit(" ", 1)[1]
    response = await page.request.get(f"{base}/api/verdicts/{verdict_id}")
    assert response.ok
    record = await response.json()
    assert record["passed"] is False
    assert record["continued_despite_failure"] is True
    await shots.take(page, "check-continued-anyway")
    assert watch.errors == [], watch.errors


def zh(key: str) -> str:
    return i18n.translate("zh-CN", key)


async def test_language_switch_to_chinese_keeps_the_running_check_and_is_remembered(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings)
    browser = await launch(hands_camera)
    page, watch = await open_check(browser, f"{base}/check?next=/after")
    await page.click("#start")
    await wait_for_state(page, re.compile("connecting|checking|passed"))
    await page.click('a[data-lang="zh-CN"]')  # no reload: the check goes on
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("h1")).to_have_text(zh("check.title"))
    await wait_for_state(page, "passed")
    await expect(page.locator("#status")).to_have_text(zh("state.passed_announce"))
    await expect(row(page, "hands").locator(".status-word")).to_have_text(zh("status.pass"))
    await expect(page.locator("#continue")).to_have_text(zh("btn.continue"))
    assert zh("check.title") in await page.title()
    assert "lang=zh-CN" in page.url
    assert "next=%2Fafter" in page.url  # the switch keeps the other parameters
    await shots.take(page, "check-passed-zh-CN")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    assert cookies[i18n.COOKIE] == "zh-CN"
    # The next visit, without ?lang=, is in Chinese too: the server reads the cookie.
    await page.goto(f"{base}/help")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("h1")).to_have_text(zh("help.title"))
    await shots.take(page, "help-zh-CN")
    assert watch.errors == [], watch.errors


async def test_axe_finds_no_serious_violation_on_check_and_help(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings)
    browser = await launch(hands_camera)
    page, watch = await open_check(browser, f"{base}/help")
    await shots.take(page, "help")
    for path in ("/help", "/help?lang=zh-CN", "/check?lang=zh-CN", "/check?lang=en"):
        await page.goto(f"{base}{path}")
        assert await run_axe(page) == [], path
    await page.click("#start")
    await wait_for_state(page, "passed")
    assert await run_axe(page) == [], "check, passed"
    # The runner does see violations (the CSP did not keep axe out): an image without a text.
    await page.evaluate("document.querySelector('h1').append(document.createElement('img'))")
    assert [v["id"] for v in await run_axe(page)] == ["image-alt"]
    assert watch.errors == [], watch.errors


async def test_phone_size_failed_check_fits_the_screen_and_passes_axe(
    launch: Launch, serve: Serve, settings: Settings, no_hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings.replace(check_timeout_s=3.0))
    browser = await launch(no_hands_camera)
    page, watch = await open_check(browser, f"{base}/check", viewport=PHONE, scale=2)
    await shots.take(page, "phone-idle")
    await page.click("#start")
    await wait_for_state(page, "failed")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in ("#retry", "#continue-anyway"):
        box = await page.locator(button).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 44  # a comfortable touch target
    assert await run_axe(page) == []
    await shots.take(page, "phone-failed")
    assert watch.errors == [], watch.errors


async def test_keyboard_alone_starts_the_check_and_continues(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path
) -> None:
    base = await serve(settings)
    browser = await launch(hands_camera)
    page, watch = await open_check(browser, f"{base}/check")
    for _ in range(15):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "start":
            break
    else:
        pytest.fail("Tab never reached the start button")
    outline = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none"
    assert float(outline[1].removesuffix("px")) >= 2  # a visible focus ring
    await page.keyboard.press("Enter")
    await wait_for_state(page, "passed")
    # Focus went to the result, so the next Tab is the Continue button.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "continue"
    await page.keyboard.press("Enter")
    await wait_for_state(page, "done")
    await expect(page.locator("#done-text")).to_contain_text(i18n.translate("en", "state.done_ref", id=""))
    assert watch.errors == [], watch.errors


async def test_blocked_camera_is_explained_and_the_customer_can_go_on(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings)
    browser = await launch(hands_camera, grant_camera=False)
    page, watch = await open_check(browser, f"{base}/check?next=/after")
    await page.click("#start")
    await wait_for_state(page, "problem")
    await expect(page.locator("#problem-text")).to_have_text(i18n.translate("en", "camera.denied"))
    await shots.take(page, "check-camera-blocked")
    assert watch.errors == [], watch.errors
    await page.click("#continue-without")
    await page.wait_for_url(re.compile(r"/after\?verdict=none$"))


async def test_no_camera_is_explained(launch: Launch, serve: Serve, settings: Settings) -> None:
    base = await serve(settings)
    browser = await launch(None)
    page, watch = await open_check(browser, f"{base}/check")
    await page.click("#start")
    await wait_for_state(page, "problem")
    await expect(page.locator("#problem-text")).to_have_text(i18n.translate("en", "camera.missing"))
    await expect(page.locator("#continue-without")).to_be_visible()
    assert watch.errors == [], watch.errors


async def test_a_full_server_says_so_and_the_page_retries_by_itself(
    launch: Launch, serve: Serve, settings: Settings, no_hands_camera: Path, shots: Shots
) -> None:
    base = await serve(settings.replace(check_max_concurrent=1, check_timeout_s=4.0))
    browser = await launch(no_hands_camera)
    first, _ = await open_check(browser, f"{base}/check")
    await first.click("#start")
    await wait_for_state(first, "checking")
    second, watch = await open_check(browser, f"{base}/check")
    await second.click("#start")
    await wait_for_state(second, "busy")
    await expect(second.locator("#busy-text")).to_have_text(re.compile(r"\d+ seconds"))
    await shots.take(second, "check-busy")
    # The first check ends by its time-out; the second page then gets the slot without a click.
    await wait_for_state(second, "checking")
    assert [e for e in watch.errors if "503" not in e] == [], watch.errors


async def expect_connection_failure(page: Page, locale: str = "en") -> None:
    """The connection problem: its own words and a retry, never the camera's, no row left on Checking."""
    await wait_for_state(page, "problem")
    await expect(page.locator("#problem-title")).to_have_text(
        i18n.translate(locale, "state.connection_title")
    )
    await expect(page.locator("#problem-text")).to_have_text(
        i18n.translate(locale, "state.connection_failed")
    )
    await expect(page.locator("#retry-problem")).to_be_visible()
    await expect(page.locator("#status")).not_to_have_text(i18n.translate(locale, "state.failed"))
    pending = page.locator('.criterion[data-status="pending"]')
    await expect(pending).to_have_count(0)


async def test_a_check_that_receives_no_frames_reads_as_a_connection_failure_with_a_retry(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path, shots: Shots
) -> None:
    """The server answers, but no video arrives in time (outcome no_media): the network, not the camera."""
    base = await serve(settings.replace(check_no_media_s=0.05))
    browser = await launch(hands_camera)
    page, watch = await open_check(browser, f"{base}/check")
    await page.click("#start")
    await expect_connection_failure(page)
    await shots.take(page, "check-no-frames")
    await page.click('a[data-lang="zh-CN"]')
    await expect_connection_failure(page, "zh-CN")
    await page.click('a[data-lang="en"]')
    await page.click("#retry-problem")  # the retry starts a new check (which fails the same way here)
    await wait_for_state(page, re.compile("connecting|checking"))
    await expect_connection_failure(page)
    assert not [e for e in watch.errors if "no video reached" not in e], watch.errors


async def test_an_answer_without_candidates_is_a_connection_failure_not_a_busy_loop(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path
) -> None:
    base = await serve(settings.replace(check_ice_addresses=("192.0.2.1",)))  # no such address here
    browser = await launch(hands_camera)
    page, _ = await open_check(browser, f"{base}/check")
    await page.click("#start")
    await expect_connection_failure(page)
    await expect(page.locator('[data-panel="busy"]')).to_be_hidden()


async def test_rows_follow_what_the_server_sends_and_unmeasured_is_neutral_never_good(
    launch: Launch, serve: Serve, settings: Settings, hands_camera: Path
) -> None:
    """The verdict is the server's (a real check runs); its events are replaced by one verdict naming a
    criterion the page was not rendered with and statuses "not_measured" and "pending"."""
    base = await serve(settings)
    browser = await launch(hands_camera)
    page, _ = await open_check(browser, f"{base}/check")
    message = {"en": "Raise your hands into the picture", "zh-CN": "请把双手举到画面中"}
    verdict = {
        "passed": False,
        "complete": True,
        "outcome": "failed",
        "reason": "test",
        "verdict_id": "A" * 22,
        "criteria": [
            {"criterion": "hands", "status": "fail", "message": message},
            {"criterion": "signing_space", "status": "not_measured", "message": {"en": "", "zh-CN": ""}},
            {"criterion": "face", "status": "pending", "message": {"en": "", "zh-CN": ""}},
            {"criterion": "light", "status": "pass", "message": {"en": "", "zh-CN": ""}},
        ],
    }
    body = f"retry: 2000\n\nevent: verdict\ndata: {json.dumps(verdict)}\n\n"
    await page.route(
        re.compile(r".*/api/checks/[^/]+/events$"),
        lambda route: route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body),
    )
    await page.click("#start")
    await wait_for_state(page, "failed")
    new_row = row(page, "signing_space")
    await expect(new_row).to_have_attribute("data-status", "not_measured")
    await expect(new_row.locator(".status-word")).to_have_text(i18n.translate("en", "status.not_measured"))
    await expect(new_row.locator(".crit-label")).to_have_text("signing space")
    await expect(row(page, "face")).to_have_attribute("data-status", "not_measured")  # never "Checking"
    await expect(row(page, "light").locator(".status-word")).to_have_text(i18n.translate("en", "status.pass"))
    good = i18n.translate("en", "status.pass")
    for name in ("signing_space", "face"):
        await expect(row(page, name).locator(".status-word")).not_to_have_text(good)
    await expect(page.locator('.criterion[data-status="pending"]')).to_have_count(0)
    await expect(row(page, "hands").locator(".crit-message")).to_have_text(message["en"])


async def test_the_page_tells_the_server_what_its_sender_knows(
    launch: Launch, serve: Serve, settings: Settings, no_hands_camera: Path
) -> None:
    base = await serve(settings.replace(check_timeout_s=4.0))
    browser = await launch(no_hands_camera)
    page, watch = await open_check(browser, f"{base}/check")
    reports: list[tuple[int, dict[str, object]]] = []

    async def on_response(response: Response) -> None:
        if response.url.endswith("/sender") and response.request.method == "POST":
            reports.append((response.status, json.loads(response.request.post_data or "{}")))

    page.on("response", on_response)
    await page.click("#start")
    await wait_for_state(page, "failed")
    assert reports, "no sender report was posted during a 4 s check"
    assert all(status == 204 for status, _ in reports), reports
    last = reports[-1][1]
    assert last["track_muted"] is False
    assert isinstance(last["frames_encoded"], int) and last["frames_encoded"] > 0
    assert watch.errors == [], watch.errors
