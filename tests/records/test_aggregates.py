"""QA figures against numbers worked out by hand (tests/records/dataset.py has the data set)."""

from __future__ import annotations

import pytest

from signlink.records import aggregates
from signlink.records.aggregates import Counters
from signlink.records.row import row_of
from tests.records.dataset import tickets


def counters(only: set[str] | None = None) -> Counters:
    out: Counters = {}
    for record in tickets():
        if only is None or record.id in only:
            aggregates.combine(out, aggregates.contribution(row_of(record)).fields)
    return out


def test_headline_figures_match_the_hand_computed_ones() -> None:
    s = aggregates.summary(counters(), (120, 30))
    assert (s["tickets"], s["answered"], s["abandoned"], s["unserved"], s["waiting"]) == (10, 6, 2, 1, 1)
    assert s["transferred"] == 1
    # Answered within 120 s: 8, 25, 40, 100 -> 4 of the 8 that stopped waiting (6 answered + 2 abandoned).
    # Within 30 s: 8 and 25 -> 2 of 8.
    assert s["service_level"] == [{"threshold_s": 120, "share": 0.5}, {"threshold_s": 30, "share": 0.25}]
    # (8 + 25 + 40 + 100 + 130 + 200) / 6 = 83.83; the 90th percentile: rank 5.4 of 6 falls in the
    # (180, 240] bin (holding 200) after 5 answers: 180 + 0.4 * 60 = 204.
    assert s["answer_time"] == {"avg_s": 83.8, "p90_s": 204.0}
    assert s["abandonment_rate"] == 0.25
    assert s["abandoned_wait"] == {"avg_s": 175.0}  # (50 + 300) / 2
    # Ended sessions: talk 300, 600, 120, 420, 200, 100; wrap-ups known: 60, 30, 90, 20.
    assert s["talk_time"] == {"avg_s": 290.0}  # 1740 / 6
    assert s["wrap_up_time"] == {"avg_s": 50.0}  # 200 / 4
    assert s["handle_time"] == {"avg_s": 323.3}  # (360 + 600 + 150 + 510 + 220 + 100) / 6
    assert s["offers"] == {"made": 11, "accepted": 7, "declined": 1, "timed_out": 1, "cancelled": 1}
    assert s["check"] == {
        "checked": 7,
        "passed": 4,
        "pass_rate": 0.5714,  # 4 / 7
        "continued_despite_failure": 3,
        "top_failing": [
            {"criterion": "light", "count": 2},
            {"criterion": "framing", "count": 1},
            {"criterion": "hands", "count": 1},
        ],
    }
    assert s["quality"] == {
        "calls_with_samples": 2,
        "flagged": 1,
        "low_fps": 1,
        "high_delay": 0,
        "avg_fps": 21.7,  # 390 / 18
        "avg_rtt_ms": 100.0,  # 1800 / 18
        "avg_packet_loss": 0.01,  # 0.18 / 18
    }
    assert s["rating"] == {"count": 4, "avg": 3.5}  # 5, 4, 2, 3


def test_service_level_between_bin_edges_is_interpolated() -> None:
    c = counters()
    # 100 s is inside the (90, 120] bin, which holds one answer (100 s): 3 + 1 * (100 - 90) / 30.
    assert aggregates.answered_within(c, 100) == pytest.approx(3 + 1 / 3)
    assert aggregates.service_level(c, 100) == 0.4167  # 3.333 / 8
    assert aggregates.service_level(c, 50) == 0.375  # 3 / 8: (45, 60] is empty


def test_percentiles_of_an_empty_period_are_missing_not_zero() -> None:
    s = aggregates.summary({}, (120,))
    assert s["answer_time"] == {"avg_s": None, "p90_s": None}
    assert s["service_level"] == [{"threshold_s": 120, "share": None}]
    assert s["abandonment_rate"] is None and s["rating"] == {"count": 0, "avg": None}


def test_a_percentile_in_the_open_last_bin_is_its_lower_edge() -> None:
    assert aggregates.percentile({"h:inf": 3, "h:5": 1}, 0.9) == 3600


def test_breakdown_by_language() -> None:
    by_pair: dict[str, Counters] = {}
    for record in tickets():
        row = row_of(record)
        assert row is not None
        aggregates.combine(by_pair.setdefault(row.language, {}), aggregates.contribution(row).fields)
    rows = {r["key"]: r for r in aggregates.breakdown(by_pair, 120)}
    # ASL: t1-t4 answered (8, 25, 40, 100 s), a1 abandoned, w1 waiting.
    assert rows["ASL"] == {
        "key": "ASL",
        "tickets": 6,
        "answered": 4,
        "abandoned": 1,
        "unserved": 0,
        "sl_share": 0.8,
        "answer_avg_s": 43.2,  # 173 / 4
    }
    # BSL: t5 (130 s), t6 (200 s) answered, a2 abandoned: none within 120 s.
    assert rows["BSL"]["sl_share"] == 0.0 and rows["BSL"]["tickets"] == 3
    assert rows["CSL"] == {
        "key": "CSL",
        "tickets": 1,
        "answered": 0,
        "abandoned": 0,
        "unserved": 1,
        "sl_share": None,
        "answer_avg_s": None,
    }
    assert [r["key"] for r in aggregates.breakdown(by_pair, 120)] == ["ASL", "BSL", "CSL"]


def test_per_agent_figures() -> None:
    agents: dict[str, Counters] = {}
    for record in tickets():
        for agent, part in aggregates.contribution(row_of(record)).agents.items():
            aggregates.combine(agents.setdefault(agent, {}), part)
    rows = {r["agent_id"]: r for r in aggregates.agent_rows(agents, {"ana": "Ana Li"})}
    # ana: t1, t2, t4, t6 (first leg); handle 360 + 600 + 510 + 220 = 1690 over 4; ratings 5, 4, 2, 3.
    assert rows["ana"] == {
        "agent_id": "ana",
        "name": "Ana Li",
        "handled": 4,
        "avg_handle_s": 422.5,
        "avg_talk_s": 380.0,  # (300 + 600 + 420 + 200) / 4
        "offers": 4,
        "missed_offers": 0,
        "declined": 0,
        "timed_out": 0,
        "rating_avg": 3.5,
        "rating_count": 4,
    }
    # bob: t5 still in the call; declined t2, timed out on t3, accepted t5, cancelled a1 (not a miss).
    assert rows["bob"]["handled"] == 1 and rows["bob"]["avg_handle_s"] is None
    assert (rows["bob"]["offers"], rows["bob"]["missed_offers"]) == (4, 2)
    assert (rows["bob"]["declined"], rows["bob"]["timed_out"]) == (1, 1)
    assert rows["bob"]["name"] == "bob"  # no name given: the id
    # cy: t3 (150) and t6's second leg (100); offers t3, t6, and w1 still open.
    assert (rows["cy"]["handled"], rows["cy"]["avg_handle_s"], rows["cy"]["offers"]) == (2, 125.0, 3)
    assert [r["agent_id"] for r in aggregates.agent_rows(agents, {})] == ["ana", "cy", "bob"]


def test_a_change_adds_only_its_difference() -> None:
    record = tickets()[0]
    before = aggregates.contribution(row_of(record))
    record.sessions["s-t1-0"].rating = 2
    after = aggregates.contribution(row_of(record))
    assert aggregates.difference(after.fields, before.fields) == {"rating_sum": -3}
    assert aggregates.difference(after.agents["ana"], before.agents["ana"]) == {"rating_sum": -3}


def test_check_durations_fill_their_histogram() -> None:
    c = counters()
    assert c["cd:6"] == 7  # seven found verdicts, 5.0 s each: the (4, 6] bin
    assert c["check_dur_sum"] == 35.0
