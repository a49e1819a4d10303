"""The camera check's measurements on the QA session page: words and units in both languages, never a
code, from a verdict the real window computed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from signlink.quality.thresholds import DEFAULT_THRESHOLDS
from signlink.quality.window import Window
from signlink.web import i18n
from signlink.web.qa_format import Fmt
from signlink.web.qa_metrics import METRICS, criteria_rows, metric_rows
from tests.quality.test_window import fill


def analysed_check() -> dict[str, Any]:
    """A check record as the recorder copies it (criteria name -> status, value; metrics), from a real
    Window over 1 s of synthetic samples at 30 fps, 640x480."""
    verdict = fill(Window(DEFAULT_THRESHOLDS, window_s=1.0))
    return {
        "criteria": {
            r.criterion.value: {"status": r.status.value, "value": r.value} for r in verdict.criteria
        },
        "metrics": dict(verdict.metrics),
    }


def test_every_measurement_the_window_writes_has_a_kind_and_words_in_both_languages() -> None:
    written = set(analysed_check()["metrics"])
    assert written == set(METRICS)
    for locale in i18n.LOCALES:
        texts = i18n.catalog(locale)
        assert [code for code in METRICS if f"qa.metric.{code}" not in texts] == []


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_measurement_list_has_no_code_and_every_value_a_unit(locale: str) -> None:
    rows = dict(metric_rows(Fmt(locale), analysed_check()))
    assert set(rows) == {i18n.translate(locale, f"qa.metric.{code}") for code in METRICS}
    shown = " ".join(f"{k} {v}" for k, v in rows.items())
    # Codes such as black_share or luma; plain words (width, contrast) may be labels too.
    assert re.findall(r"\b[a-z]+_[a-z_]+\b|\bluma\b", shown) == []
    if locale == "en":
        assert rows["Frames with a hand seen"] == "100% of frames"
        assert rows["Picture width"] == "640 px"
        assert rows["Frame rate"] == "30.0 fps"
        assert rows["Brightness on the signer"] == "120 / 255"
        assert rows["Length of video judged"] == "1.0 s"
        assert rows["Frames received"] == "31 frames"
    else:
        assert rows["看到手的帧"] == "100% 的帧"
        assert rows["画面宽度"] == "640 像素"
        assert rows["帧率"] == "30.0 帧/秒"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_each_criterion_says_what_it_was_judged_on_with_units(locale: str) -> None:
    rows = dict(criteria_rows(Fmt(locale), analysed_check()))
    assert rows["resolution"]["value_text"] == f"640 × 480 {i18n.translate(locale, 'qa.unit.px')}"
    assert rows["frame_rate"]["value_text"].endswith(i18n.translate(locale, "qa.unit.fps"))
    assert "/ 255" in rows["light"]["value_text"]
    assert i18n.translate(locale, "qa.metric.short.contrast") in rows["light"]["value_text"]
    assert "%" in rows["framing"]["value_text"] and "%" in rows["hands"]["value_text"]


def test_a_record_without_measurements_shows_the_criterion_value() -> None:
    check = {"criteria": {"light": {"status": "fail", "value": 1.0}}}
    assert dict(criteria_rows(Fmt("en"), check))["light"]["value_text"] == "1.00"
    assert metric_rows(Fmt("en"), check) == []
