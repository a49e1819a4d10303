"""A criterion with nothing to measure on is never shown as good: not in the latest state or the offer."""

from __future__ import annotations

from signlink.check.latest import LatestState
from signlink.check.outcome import Outcome
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict
from signlink.records.verdicts import CriterionRecord, VerdictRecord
from signlink.signaling.offers import check_summary, with_latest


def verdict_with(**statuses: Status) -> Verdict:
    criteria = tuple(CriterionResult(c, statuses.get(c.value, Status.PASS), 1.0, 1.0) for c in Criterion)
    return Verdict(
        passed=all(r.status is Status.PASS for r in criteria),
        complete=all(r.status is not Status.PENDING for r in criteria),
        criteria=criteria,
        metrics={},
    )


def test_a_watched_window_with_framing_not_measured_is_not_a_pass() -> None:
    good = LatestState.of("v1", verdict_with(), 1000.0)
    assert good.passed and good.not_measured == ()

    state = LatestState.of("v1", verdict_with(framing=Status.NOT_MEASURED), 1000.0)

    assert state.complete is True
    assert state.passed is False
    assert state.failing == ()
    assert state.not_measured == ("framing",)
    # The criteria a watch does not re-judge are "not measured" too, but they do not fail it.
    assert state.statuses["frame_rate"] == "not_measured" and "frame_rate" not in state.not_measured


def test_the_offer_names_a_criterion_that_was_not_measured() -> None:
    record = VerdictRecord(
        id="v1",
        check_id="c1",
        created_at="2026-12-03T00:00:00Z",
        created_epoch=1000.0,
        duration_s=3.0,
        passed=False,
        outcome=Outcome.TIMED_OUT,
        criteria={
            "hands": CriterionRecord("pass", 1.0),
            "framing": CriterionRecord("not_measured", None),
            "light": CriterionRecord("fail", 20.0),
        },
        metrics={},
    )
    summary = check_summary(record)
    assert summary.passed is False
    assert [f.criterion for f in summary.failing] == ["light"]
    assert summary.not_measured == ("framing",)
    assert summary.to_wire()["not_measured"] == ["framing"]

    later = LatestState.of("v1", verdict_with(framing=Status.NOT_MEASURED), 1010.0)
    offered = with_latest(summary, later, 1012.0)
    assert offered.passed is False
    assert offered.failing == () and offered.not_measured == ("framing",)
    assert offered.measured_age_s == 2.0
