"""A small, hand-made day of tickets whose figures are worked out by hand in the tests.

Ten tickets on 2027-01-15 (DAY), between 10:00 and 12:00 UTC:

| ticket | lang/topic | outcome | answer | sessions (agent: talk, wrap, rating) | offers | check |
| t1 | ASL/phone | answered | 8 | ana: 300, 60, 5 | ana accepted | passed |
| t2 | ASL/phone | answered | 25 | ana: 600, -, 4 | bob declined, ana accepted | passed |
| t3 | ASL/pc | answered | 40 | cy: 120, 30, - | bob timed out, cy accepted | continued (light, hands) |
| t4 | ASL/pc | answered | 100 | ana: 420, 90, 2 | ana accepted | none |
| t5 | BSL/phone | answered | 130 | bob: in call | bob accepted | passed |
| t6 | BSL/phone | answered, moved | 200 | ana: 200, 20, 3; cy: 100, -, - | ana, cy accepted | continued |

(t6's check failed on light; it was transferred during its first call.)
| a1 | ASL/phone | abandoned after 50 | | | bob cancelled | continued (framing) |
| a2 | BSL/pc | abandoned after 300 | | | | none |
| u1 | CSL/phone | unserved | | | | none |
| w1 | ASL/phone | waiting | | | cy open | passed |

Call quality: t1 has 12 samples (fps sum 300, rtt sum 1200 ms, loss sum 0.12), not flagged; t2 has 6
(fps 90, rtt 600, loss 0.06), flagged low_fps.
"""

from __future__ import annotations

from signlink.records.quality import Finding, QualitySummary, Reason, Side
from signlink.records.ticket import (
    CheckCopy,
    OfferOutcome,
    OfferPart,
    SessionPart,
    TicketRecord,
    TransferPart,
)

DAY = 1_799_971_200  # 2027-01-15T00:00:00Z
H10 = DAY + 10 * 3600

A = OfferOutcome.ACCEPTED


def _check(kind: str, failing: tuple[str, ...] = ()) -> CheckCopy | None:
    if kind == "none":
        return None
    criteria = {
        c: {"status": "fail" if c in failing else "pass", "value": 1.0} for c in ("light", "hands", "framing")
    }
    return CheckCopy(
        verdict_id=f"v-{kind}-{'-'.join(failing)}",
        passed=kind == "passed",
        outcome="passed" if kind == "passed" else "failed",
        created_at=None,
        duration_s=5.0,
        continued_at="2027-01-15T10:00:00Z" if kind == "continued" else None,
        criteria=criteria,
    )


def _answered(
    tid: str,
    joined: float,
    pair: str,
    answer: float,
    *,
    sessions: list[tuple[str, float | None, float | None, int | None]],
    offers: list[tuple[str, OfferOutcome]],
    check: CheckCopy | None,
) -> TicketRecord:
    lang, topic = pair.split("/")
    record = TicketRecord(
        tid, joined_at=joined, language=lang, topic=topic, priority_class="normal", check=check
    )
    for i, (agent, outcome) in enumerate(offers):
        record.offers[f"o-{tid}-{i}"] = OfferPart(
            agent, joined + i, outcome, None if outcome is OfferOutcome.OPEN else joined + i + 1
        )
    at = joined + answer
    for i, (agent, talk, wrap, rating) in enumerate(sessions):
        ended = None if talk is None else at + talk
        record.sessions[f"s-{tid}-{i}"] = SessionPart(
            agent=agent,
            accepted_at=at,
            waited_s=answer if i == 0 else answer + 1000,
            ended_at=ended,
            ended_by="agent" if ended is not None else None,
            wrapped_at=None if wrap is None or ended is None else ended + wrap,
            wrap_outcome=None if wrap is None else "resolved",
            rating=rating,
            rated_at=None if rating is None or ended is None else ended + 100,
        )
        at = (ended or at) + 1000
    return record


def tickets() -> list[TicketRecord]:
    good = QualitySummary(samples=12, fps_sum=300, fps_n=12, rtt_sum=1200, rtt_n=12, loss_sum=0.12, loss_n=12)
    poor = QualitySummary(
        samples=6,
        fps_sum=90,
        fps_n=6,
        rtt_sum=600,
        rtt_n=6,
        loss_sum=0.06,
        loss_n=6,
        findings=(Finding(Reason.LOW_FPS, Side.CUSTOMER, 6, 6, 6),),
    )
    t, p = _check("passed"), OfferOutcome
    out = [
        _answered(
            "t1", H10 + 60, "ASL/phone", 8, sessions=[("ana", 300, 60, 5)], offers=[("ana", A)], check=t
        ),
        _answered(
            "t2",
            H10 + 120,
            "ASL/phone",
            25,
            sessions=[("ana", 600, None, 4)],
            offers=[("bob", p.DECLINED), ("ana", A)],
            check=t,
        ),
        _answered(
            "t3",
            H10 + 180,
            "ASL/pc",
            40,
            sessions=[("cy", 120, 30, None)],
            offers=[("bob", p.TIMED_OUT), ("cy", A)],
            check=_check("continued", ("light", "hands")),
        ),
        _answered(
            "t4", H10 + 3600, "ASL/pc", 100, sessions=[("ana", 420, 90, 2)], offers=[("ana", A)], check=None
        ),
        _answered(
            "t5",
            H10 + 3700,
            "BSL/phone",
            130,
            sessions=[("bob", None, None, None)],
            offers=[("bob", A)],
            check=t,
        ),
        _answered(
            "t6",
            H10 + 3800,
            "BSL/phone",
            200,
            sessions=[("ana", 200, 20, 3), ("cy", 100, None, None)],
            offers=[("ana", A), ("cy", A)],
            check=_check("continued", ("light",)),
        ),
    ]
    out[0].sessions["s-t1-0"].quality = good
    out[1].sessions["s-t2-0"].quality = poor
    out[-1].transfers["e1"] = TransferPart(at=H10 + 4300, to_language="BSL", to_topic="pc")
    a1 = TicketRecord("a1", joined_at=H10 + 7200, language="ASL", topic="phone", priority_class="normal")
    a1.offers["o-a1"] = OfferPart("bob", H10 + 7201, OfferOutcome.CANCELLED, H10 + 7250, "ticket_left")
    a1.check = _check("continued", ("framing",))
    a1.abandoned_at, a1.abandon_reason, a1.abandon_waited_s = H10 + 7250, "left", 50.0
    a2 = TicketRecord("a2", joined_at=H10 + 7300, language="BSL", topic="pc", priority_class="normal")
    a2.abandoned_at, a2.abandon_reason, a2.abandon_waited_s = H10 + 7600, "timeout", 300.0
    u1 = TicketRecord(
        "u1", unserved=True, joined_at=H10 + 7400, language="CSL", topic="phone", priority_class="normal"
    )
    w1 = TicketRecord("w1", joined_at=H10 + 7500, language="ASL", topic="phone", priority_class="normal")
    w1.offers["o-w1"] = OfferPart("cy", H10 + 7501)
    w1.check = _check("passed")
    return [*out, a1, a2, u1, w1]
