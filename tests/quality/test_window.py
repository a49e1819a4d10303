"""The verdict over the rolling window, from synthetic measurements (no models)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

import pytest

from signlink.quality.measures import Light
from signlink.quality.messages import MESSAGES, Reason
from signlink.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from signlink.quality.verdict import Criterion, Status, Verdict
from signlink.quality.window import FrameSample, Window

GOOD = FrameSample(
    timestamp_s=0.0,
    hands=2,
    hand_extent=0.2,
    cut_off=False,
    face=True,
    light=Light(luma=120.0, black_share=0.05, white_share=0.01, contrast=40.0),
    frame_luma=110.0,
    sharpness=6.0,
    difference=3.0,
)


def fill(
    window: Window,
    *,
    seconds: float = 1.0,
    fps: float = 30.0,
    size: tuple[int, int] = (640, 480),
    sample_every: int = 3,
    change: Mapping[int, Mapping[str, object]] | None = None,
    **fields: object,
) -> Verdict:
    """Note frames at `fps` for `seconds`, analyse every `sample_every`-th; `change[i]` overrides sample i."""
    analysed = 0
    for index in range(round(seconds * fps) + 1):
        t = index / fps
        window.note(t, *size)
        if index % sample_every == 0:
            values = {**fields, **(change or {}).get(analysed, {})}
            face = values.pop("face", GOOD.face if analysed % 2 == 0 else None)
            window.add(replace(GOOD, timestamp_s=t, face=face, **values))  # type: ignore[arg-type]
            analysed += 1
    return window.verdict()


def failing(verdict: Verdict) -> list[Criterion]:
    return [result.criterion for result in verdict.failing()]


@pytest.fixture
def window() -> Window:
    return Window(DEFAULT_THRESHOLDS, window_s=1.0)


def test_a_good_window_passes_every_criterion(window: Window) -> None:
    verdict = fill(window)
    assert verdict.passed and verdict.complete
    assert [r.criterion for r in verdict.criteria] == list(Criterion)
    assert all(r.message == {"en": "", "zh-CN": ""} for r in verdict.criteria)
    assert verdict.metrics["fps"] == 30.0
    assert verdict.metrics["width"] == 640


def test_pending_until_the_window_is_full(window: Window) -> None:
    verdict = fill(window, seconds=0.5)
    assert not verdict.complete and not verdict.passed
    statuses = {r.criterion: r.status for r in verdict.criteria}
    assert statuses.pop(Criterion.RESOLUTION) is Status.PASS  # known from the first frame
    assert set(statuses.values()) == {Status.PENDING}
    assert verdict.failing() == ()


def test_too_few_analysed_frames_stay_pending(window: Window) -> None:
    verdict = fill(window, sample_every=10)  # 1 s of frames, 4 analysed
    assert not verdict.complete


def test_one_lucky_frame_with_hands_is_not_a_pass(window: Window) -> None:
    verdict = fill(window, hands=0, hand_extent=None, change={4: {"hands": 1, "hand_extent": 0.2}})
    assert failing(verdict) == [Criterion.HANDS]
    assert verdict.result(Criterion.HANDS).message == MESSAGES[Reason.NO_HANDS]


def test_hands_in_most_frames_pass(window: Window) -> None:
    no_hands = {"hands": 0, "hand_extent": None}
    verdict = fill(window, change={0: no_hands, 5: no_hands, 9: no_hands})  # 8 of 11
    assert verdict.passed


def test_framing_reasons(window: Window) -> None:
    assert (
        fill(Window(DEFAULT_THRESHOLDS, 1.0), cut_off=True).result(Criterion.FRAMING).message
        == MESSAGES[Reason.HANDS_CUT_OFF]
    )
    assert (
        fill(Window(DEFAULT_THRESHOLDS, 1.0), hand_extent=0.95).result(Criterion.FRAMING).message
        == MESSAGES[Reason.HANDS_TOO_BIG]
    )
    far = fill(window, hand_extent=0.03)
    assert failing(far) == [Criterion.FRAMING]
    assert far.result(Criterion.FRAMING).message == MESSAGES[Reason.HANDS_TOO_SMALL]


def test_no_hands_fails_hands_only_not_framing(window: Window) -> None:
    verdict = fill(window, hands=0, hand_extent=None)
    assert failing(verdict) == [Criterion.HANDS]
    assert verdict.result(Criterion.FRAMING).value is None


def test_face_missing_in_most_frames_fails(window: Window) -> None:
    verdict = fill(window, change={i: {"face": False} for i in range(0, 11, 2)})
    assert failing(verdict) == [Criterion.FACE]


@pytest.mark.parametrize(
    ("light", "frame_luma", "reason"),
    [
        (Light(30.0, 0.2, 0.0, 20.0), 35.0, Reason.TOO_DARK),
        (Light(70.0, 0.6, 0.0, 50.0), 70.0, Reason.TOO_DARK),
        (Light(35.0, 0.2, 0.0, 20.0), 150.0, Reason.BACKLIT),
        (Light(230.0, 0.0, 0.5, 20.0), 220.0, Reason.TOO_BRIGHT),
        (Light(120.0, 0.0, 0.0, 6.0), 120.0, Reason.LOW_CONTRAST),
    ],
)
def test_light_reasons(window: Window, light: Light, frame_luma: float, reason: Reason) -> None:
    verdict = fill(window, light=light, frame_luma=frame_luma)
    assert failing(verdict) == [Criterion.LIGHT]
    assert verdict.result(Criterion.LIGHT).message == MESSAGES[reason]


def test_a_dark_background_does_not_matter_when_the_signer_is_lit(window: Window) -> None:
    assert fill(window, frame_luma=15.0).passed


def test_blurred_fails_and_unknown_sharpness_is_left_to_light(window: Window) -> None:
    assert failing(fill(Window(DEFAULT_THRESHOLDS, 1.0), sharpness=1.5)) == [Criterion.SHARPNESS]
    assert fill(window, sharpness=None).passed


def test_frozen_picture_fails_but_a_few_still_frames_do_not(window: Window) -> None:
    assert failing(fill(Window(DEFAULT_THRESHOLDS, 1.0), difference=0.0)) == [Criterion.FROZEN]
    still = {i: {"difference": 0.0} for i in range(1, 6)}
    assert fill(window, change=still).passed


@pytest.mark.parametrize(("fps", "passes"), [(30.0, True), (20.0, True), (15.0, False), (8.0, False)])
def test_frame_rate_is_measured_from_timestamps(window: Window, fps: float, passes: bool) -> None:
    verdict = fill(window, fps=fps, sample_every=max(1, round(fps / 10)))
    assert verdict.metrics["fps"] == pytest.approx(fps)
    assert (Criterion.FRAME_RATE not in failing(verdict)) is passes


@pytest.mark.parametrize(
    ("size", "passes"),
    [((640, 480), True), ((320, 240), True), ((240, 320), True), ((160, 120), False), ((320, 180), False)],
)
def test_resolution(window: Window, size: tuple[int, int], passes: bool) -> None:
    verdict = fill(window, size=size)
    assert (Criterion.RESOLUTION not in failing(verdict)) is passes


def test_old_frames_leave_the_window(window: Window) -> None:
    fill(window, seconds=3.0, fps=8.0, sample_every=1)  # a slow start...
    verdict = fill(window, seconds=1.0, fps=30.0)  # ...the clock restarts: the window starts over
    assert verdict.passed
    for index in range(31):  # then 1 s more at 30 fps, continuing the clock
        window.note(1.0 + (index + 1) / 30, 640, 480)
    assert window.verdict().metrics["fps"] == pytest.approx(30.0)


def test_thresholds_are_honoured(window: Window) -> None:
    strict = Window(replace(DEFAULT_THRESHOLDS, min_fps=40.0), window_s=1.0)
    assert failing(fill(strict)) == [Criterion.FRAME_RATE]
    assert isinstance(DEFAULT_THRESHOLDS, Thresholds)


def test_verdict_to_dict_is_json(window: Window) -> None:
    verdict = fill(window, hands=0, hand_extent=None)
    data = json.loads(json.dumps(verdict.to_dict()))
    assert set(data) == {"passed", "complete", "criteria", "metrics"}
    assert data["passed"] is False
    hands = next(c for c in data["criteria"] if c["criterion"] == "hands")
    assert hands == {
        "criterion": "hands",
        "status": "fail",
        "value": 0.0,
        "threshold": DEFAULT_THRESHOLDS.min_hand_share,
        "message": MESSAGES[Reason.NO_HANDS],
    }
    assert set(MESSAGES[Reason.NO_HANDS]) == {"en", "zh-CN"}


def test_every_reason_has_a_message_in_both_languages() -> None:
    for reason in Reason:
        assert MESSAGES[reason]["en"] and MESSAGES[reason]["zh-CN"], reason
