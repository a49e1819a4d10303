"""The verdict over the rolling window, from synthetic measurements (no models)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from signlink.quality.measures import Light
from signlink.quality.messages import Reason, message
from signlink.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from signlink.quality.verdict import Criterion, Status, Verdict
from signlink.quality.window import FrameSample, SenderReport, Window

LOCALES = Path(__file__).resolve().parents[2] / "signlink" / "web" / "locales"

GOOD = FrameSample(
    timestamp_s=0.0,
    hands=2,
    hand_extent=0.2,
    cut_off=False,
    face=True,
    light=Light(luma=120.0, black_share=0.05, white_share=0.01, contrast=40.0),
    frame_luma=110.0,
    sharpness=6.0,
    motion=40.0,
    # A signer as the good clips show one: face near the top centre, waist near the bottom.
    face_box=(0.42, 0.23, 0.58, 0.44),
    hand_boxes=((0.3, 0.5, 0.45, 0.7), (0.55, 0.5, 0.7, 0.7)),
    blockiness=1.05,
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
            values.setdefault("face_box", GOOD.face_box if face else None)
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
    assert all(r.message == {"en": "", "zh-CN": ""} and r.advice is None for r in verdict.criteria)
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
    assert verdict.result(Criterion.HANDS).message == message(Reason.NO_HANDS)


def test_hands_in_most_frames_pass(window: Window) -> None:
    no_hands = {"hands": 0, "hand_extent": None}
    verdict = fill(window, change={0: no_hands, 5: no_hands, 9: no_hands})  # 8 of 11
    assert verdict.passed


def framing(**fields: object) -> str | None:
    return fill(Window(DEFAULT_THRESHOLDS, 1.0), **fields).result(Criterion.FRAMING).advice  # type: ignore[arg-type]


def test_framing_reasons() -> None:
    assert framing(cut_off=True) == Reason.HANDS_CUT_OFF.key
    assert framing(hand_extent=0.95) == Reason.HANDS_TOO_BIG.key
    # The whole signer from the face: far (a small face), close (the waist far below the frame),
    # the head cut off, off to one side.
    assert framing(face_box=(0.48, 0.44, 0.52, 0.5), hand_boxes=()) == Reason.MOVE_CLOSER.key
    assert framing(face_box=(0.3, 0.2, 0.7, 0.8), hand_boxes=()) == Reason.MOVE_BACK.key
    assert framing(face_box=(0.4, -0.05, 0.6, 0.25), hand_boxes=()) == Reason.HEAD_CUT_OFF.key
    assert framing(face_box=(0.75, 0.23, 0.91, 0.44), hand_boxes=()) == Reason.MOVE_TO_CENTRE.key
    assert framing() is None


def test_a_small_face_is_move_closer_not_face_missing(window: Window) -> None:
    verdict = fill(window, face_box=(0.48, 0.44, 0.52, 0.5), hand_boxes=(), hands=0, hand_extent=None)
    assert verdict.result(Criterion.FACE).status is Status.PASS
    assert {r.criterion: r.advice for r in verdict.failing()} == {
        Criterion.HANDS: Reason.MOVE_CLOSER.key,
        Criterion.FRAMING: Reason.MOVE_CLOSER.key,
    }


def test_framing_with_no_face_is_not_measured_and_never_passes(window: Window) -> None:
    verdict = fill(window, face=False)
    framing = verdict.result(Criterion.FRAMING)
    assert framing.status is Status.NOT_MEASURED and framing.value is None
    assert not verdict.passed and verdict.complete


def test_no_hands_fails_hands_only_not_framing(window: Window) -> None:
    verdict = fill(window, hands=0, hand_extent=None)
    assert failing(verdict) == [Criterion.HANDS]


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
    assert verdict.result(Criterion.LIGHT).message == message(reason)


def test_a_dark_background_does_not_matter_when_the_signer_is_lit(window: Window) -> None:
    assert fill(window, frame_luma=15.0).passed


def test_blurred_fails_and_unknown_sharpness_is_not_measured(window: Window) -> None:
    assert failing(fill(Window(DEFAULT_THRESHOLDS, 1.0), sharpness=1.5)) == [Criterion.SHARPNESS]
    # Formerly "left to light" and shown as Good; not measured is never Good (issue 10).
    unknown = fill(window, sharpness=None, blockiness=None)
    assert unknown.result(Criterion.SHARPNESS).status is Status.NOT_MEASURED
    assert not unknown.passed and unknown.complete


def test_blocky_picture_fails_sharpness_naming_the_connection(window: Window) -> None:
    verdict = fill(window, blockiness=1.5)
    assert failing(verdict) == [Criterion.SHARPNESS]
    assert verdict.result(Criterion.SHARPNESS).advice == Reason.COMPRESSED.key
    assert "connection" in verdict.result(Criterion.SHARPNESS).message["en"]


def test_frozen_picture_fails_after_the_freeze_span_but_a_still_moment_does_not(window: Window) -> None:
    assert fill(Window(DEFAULT_THRESHOLDS, 1.0), motion=0.5).result(Criterion.FROZEN).status is Status.PENDING
    frozen = fill(Window(DEFAULT_THRESHOLDS, 1.0), seconds=2.6, motion=0.5)
    assert failing(frozen) == [Criterion.FROZEN]
    still = {i: {"motion": 0.5} for i in range(1, 10)}  # 1 s of stillness in 2.6 s
    assert fill(window, seconds=2.6, change=still).passed


def test_a_muted_track_fails_frozen_even_before_the_window_is_full(window: Window) -> None:
    fill(window, seconds=0.3)
    window.add_report(SenderReport(0.3, None, None, None, None, None, True))
    frozen = window.verdict().result(Criterion.FROZEN)
    assert (frozen.status, frozen.advice) == (Status.FAIL, Reason.CAMERA_STOPPED.key)


@pytest.mark.parametrize(
    ("limit", "loss", "reason"),
    [
        ("bandwidth", 0.0, Reason.SLOW_CONNECTION),
        ("none", 0.2, Reason.SLOW_CONNECTION),
        ("cpu", 0.0, Reason.BUSY_DEVICE),
    ],
)
def test_low_frame_rate_names_the_senders_cause(limit: str, loss: float, reason: Reason) -> None:
    window = Window(DEFAULT_THRESHOLDS, 1.0)
    fill(window, fps=8.0, sample_every=1)
    window.add_report(SenderReport(1.0, 8.0, 500.0, limit, loss, 8, False))
    assert window.verdict().result(Criterion.FRAME_RATE).advice == reason.key


def test_low_frame_rate_in_the_dark_names_the_light(window: Window) -> None:
    verdict = fill(window, fps=8.0, sample_every=1, light=Light(20.0, 0.6, 0.0, 15.0), frame_luma=20.0)
    assert verdict.result(Criterion.FRAME_RATE).advice == Reason.DARK_SLOWS_CAMERA.key
    assert verdict.result(Criterion.LIGHT).advice == Reason.TOO_DARK.key


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
        "label": "crit.hands",
        "advice": "advice.no_hands",
        "message": message(Reason.NO_HANDS),
    }
    assert set(message(Reason.NO_HANDS)) == {"en", "zh-CN"}


def test_every_reason_and_criterion_has_text_in_both_locales() -> None:
    for locale in ("en", "zh-CN"):
        catalogue = json.loads((LOCALES / f"{locale}.json").read_text("utf-8"))
        for reason in Reason:
            assert catalogue.get(reason.key), (locale, reason)
        for criterion in Criterion:
            assert catalogue.get(criterion.label), (locale, criterion)
        assert catalogue.get("status.not_measured")
