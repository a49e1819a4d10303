"""What an agent is shown with an offer or a call: the ticket and the result of the customer's video check."""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from signlink.errors import NotFound
from signlink.queue.models import Offer, Ticket
from signlink.records.verdicts import VerdictRecord, VerdictStore
from signlink.signaling.outgoing import CheckSummary, FailingCriterion, OfferInfo, TicketInfo

log = logging.getLogger(__name__)

# Said to the agent (not the customer's how-to-fix text): what the check found wrong.
CRITERION_TEXT: dict[str, dict[str, str]] = {
    "resolution": {"en": "Low video resolution", "zh-CN": "视频分辨率低"},
    "frame_rate": {"en": "Low frame rate: signing may look jerky", "zh-CN": "帧率低：手语可能不流畅"},
    "hands": {"en": "Hands were not seen clearly", "zh-CN": "未能清楚看到双手"},
    "framing": {"en": "Hands not fully in the picture", "zh-CN": "双手未完全在画面中"},
    "face": {"en": "Face not seen clearly", "zh-CN": "未能清楚看到面部"},
    "light": {"en": "Poor lighting", "zh-CN": "光线不佳"},
    "sharpness": {"en": "Blurred picture", "zh-CN": "画面模糊"},
    "frozen": {"en": "The picture froze", "zh-CN": "画面卡住"},
}


class LatestState(Protocol):
    """The waiting room's latest watched state of a check (signlink.check.latest.LatestState)."""

    @property
    def measured_epoch(self) -> float: ...
    @property
    def passed(self) -> bool: ...
    @property
    def failing(self) -> tuple[str, ...]: ...


class LatestChecks(Protocol):
    """Where the latest states are read (signlink.check.latest.LatestStates, handed in by the app)."""

    async def get(self, verdict_id: str) -> LatestState | None: ...


def with_latest(summary: CheckSummary, latest: LatestState | None, now: float) -> CheckSummary:
    """The summary as the latest watched state says, with when it was measured."""
    if latest is None:
        return summary
    return dataclasses.replace(
        summary,
        passed=latest.passed,
        failing=tuple(
            FailingCriterion(name, CRITERION_TEXT.get(name, {"en": name, "zh-CN": name}))
            for name in latest.failing
        ),
        measured_epoch=latest.measured_epoch,
        measured_age_s=max(0.0, now - latest.measured_epoch),
    )


def ticket_info(ticket: Ticket, now: float) -> TicketInfo:
    return TicketInfo(
        id=ticket.id,
        language=ticket.language,
        topic=ticket.topic,
        priority_class=ticket.priority_class,
        waited_s=ticket.waited_s(now),
        device_model=ticket.device_model,
        device_serial=ticket.device_serial,
    )


def check_summary(record: VerdictRecord) -> CheckSummary:
    failing = tuple(
        FailingCriterion(name, CRITERION_TEXT.get(name, {"en": name, "zh-CN": name}))
        for name, result in record.criteria.items()
        if result.status == "fail"
    )
    return CheckSummary(
        verdict_id=record.id,
        passed=record.passed,
        continued_despite_failure=record.continued_despite_failure,
        failing=failing,
    )


async def load_check(verdicts: VerdictStore, verdict_id: str | None) -> CheckSummary | None:
    """None when the customer skipped the check or its verdict has expired."""
    if not verdict_id:
        return None
    try:
        return check_summary(await verdicts.get(verdict_id))
    except NotFound:
        log.info("verdict %s of an offered ticket is gone", verdict_id)
        return None


async def offer_info(
    offer: Offer, ticket: Ticket, verdicts: VerdictStore, now: float, latest: LatestChecks | None = None
) -> OfferInfo:
    check = await load_check(verdicts, ticket.verdict_id)
    if check is not None and latest is not None:
        check = with_latest(check, await latest.get(check.verdict_id), now)
    return OfferInfo(
        offer_id=offer.id,
        deadline_ms=round(offer.deadline * 1000),
        timeout_s=round(max(0.0, offer.deadline - now), 1),
        ticket=ticket_info(ticket, now),
        check=check,
    )
