"""Call-quality samples: packing, the delay estimate and the 'below signing needs' rule."""

from __future__ import annotations

from signlink.records.quality import (
    SAMPLE_BYTES,
    QualitySample,
    QualitySummary,
    Reason,
    Side,
    findings,
    pack,
    summarise,
    unpack,
)

T = 1_800_000_000.0
C, A = Side.CUSTOMER, Side.AGENT


def sample(
    i: int, side: Side = C, *, fps: float | None = 28.0, rtt: float | None = 80.0, **kw: float
) -> QualitySample:
    return QualitySample(at=T + 10 * i, side=side, fps=fps, rtt_ms=rtt, **kw)  # type: ignore[arg-type]


def test_a_sample_packs_into_a_fixed_size_and_back() -> None:
    s = QualitySample(
        at=T + 0.25,
        side=A,
        rtt_ms=123,
        packet_loss=0.0123,
        jitter_ms=4.5,
        fps=29.9,
        width=640,
        height=480,
        freezes=2,
        jitter_buffer_ms=60,
    )
    data = pack(s)
    assert len(data) == SAMPLE_BYTES
    assert unpack(data + pack(sample(1))) == [s, sample(1)]


def test_unknown_values_stay_unknown_and_huge_ones_are_capped() -> None:
    s = QualitySample(at=T, side=C)
    assert unpack(pack(s)) == [s]
    big = unpack(pack(QualitySample(at=T, side=C, rtt_ms=1e9, fps=-3.0)))[0]
    assert big.rtt_ms == 65534 and big.fps == 0.0


def test_a_torn_tail_is_ignored() -> None:
    assert unpack(pack(sample(0)) + b"\x01\x02") == [sample(0)]


def test_delay_is_half_the_round_trip_plus_the_jitter_buffer() -> None:
    assert QualitySample(at=T, side=C, rtt_ms=1000, jitter_buffer_ms=350).delay_ms == 850
    # Without the buffer's figure the jitter stands in for it.
    assert QualitySample(at=T, side=C, rtt_ms=1000, jitter_ms=20).delay_ms == 520
    assert QualitySample(at=T, side=C, jitter_ms=20).delay_ms is None
    assert QualitySample(at=T, side=C, rtt_ms=1000, jitter_buffer_ms=350).bad(Reason.HIGH_DELAY) is True
    assert QualitySample(at=T, side=C, rtt_ms=1500, jitter_ms=40).bad(Reason.HIGH_DELAY) is False  # 790


def test_one_bad_sample_never_flags_a_call() -> None:
    calls = [sample(0, fps=8), *(sample(i) for i in range(1, 10))]
    assert findings(calls) == []
    assert findings([sample(0, fps=8)]) == []


def test_three_bad_samples_in_a_row_flag_the_call() -> None:
    calls = [sample(i, fps=15 if 3 <= i < 6 else 28) for i in range(12)]
    (found,) = findings(calls)
    assert (found.reason, found.side, found.bad, found.measured, found.longest_run) == (
        Reason.LOW_FPS,
        C,
        3,
        12,
        3,
    )


def test_a_majority_of_bad_samples_flags_the_call_even_when_never_three_in_a_row() -> None:
    calls = [sample(i, fps=12 if i % 3 else 28) for i in range(6)]  # bad, bad, good, bad, bad, good... 4 of 6
    (found,) = findings(calls)
    assert found.reason is Reason.LOW_FPS and found.bad == 4 and found.longest_run == 2
    assert findings([sample(0, fps=12), sample(1), sample(2, fps=12), sample(3)]) == []  # 2 of 4: no majority


def test_sides_are_judged_apart() -> None:
    # The customer sees a poor picture half the time, the agent always a good one: no side has a majority.
    calls = [sample(i, C, fps=10 if i % 2 else 28) for i in range(6)] + [sample(i, A) for i in range(6)]
    assert findings(calls) == []
    # Samples arrive interleaved from both sides: runs are per side, in time order.
    calls = [sample(i, A, rtt=2000) for i in (5, 1, 3)] + [sample(i, C) for i in (2, 4)]
    (found,) = findings(calls)
    assert (found.reason, found.side, found.longest_run) == (Reason.HIGH_DELAY, A, 3)


def test_unmeasured_samples_break_a_run_and_do_not_count() -> None:
    calls = [
        sample(0, fps=10),
        sample(1, fps=10),
        sample(2, fps=None),
        sample(3, fps=10),
        *(sample(i) for i in range(4, 8)),
    ]
    # 3 bad of 7 measured, longest run 2: not flagged.
    assert findings(calls) == []


def test_summary_keeps_sums_for_averages_and_the_reasons() -> None:
    calls = [sample(i, fps=10, packet_loss=0.02) for i in range(3)] + [
        sample(3, rtt=None, fps=None, freezes=2)
    ]
    s = summarise(calls)
    assert (s.samples, s.fps_n, s.fps_sum, s.rtt_n, s.rtt_sum, s.loss_n, s.freezes) == (
        4,
        3,
        30.0,
        3,
        240.0,
        3,
        2,
    )
    assert s.loss_sum == 0.06
    assert s.flagged and s.reasons == ["low_fps"]
    back = QualitySummary.from_dict(s.to_dict())
    assert back.reasons == ["low_fps"] and back.samples == 4 and back.flagged
