"""The check summary an offer carries: failing criteria in words, and criteria the check could not
judge listed as not measured (the console shows them neutrally, never as good)."""

from __future__ import annotations

from signlink.check.outcome import Outcome
from signlink.records.verdicts import CriterionRecord, VerdictRecord
from signlink.signaling.offers import check_summary


def record(**criteria: str) -> VerdictRecord:
    return VerdictRecord(
        id="v1",
        check_id="c1",
        created_at="2026-12-02T10:00:00Z",
        created_epoch=0.0,
        duration_s=5.0,
        passed="fail" not in criteria.values(),
        outcome=next(iter(Outcome)),
        criteria={name: CriterionRecord(status, None) for name, status in criteria.items()},
        metrics={},
    )


def test_not_measured_criteria_are_listed_apart_from_failing_ones() -> None:
    summary = check_summary(record(hands="pass", light="fail", frame_rate="not_measured"))
    wire = summary.to_wire()
    assert [f["criterion"] for f in wire["failing"]] == ["light"]
    assert wire["not_measured"] == ["frame_rate"]


def test_a_check_with_everything_measured_lists_nothing_as_not_measured() -> None:
    assert check_summary(record(hands="pass", light="pass")).to_wire()["not_measured"] == []
