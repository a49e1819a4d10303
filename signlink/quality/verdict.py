"""The outcome of a video check: one status per criterion, the measured values, and a pass/fail.

A criterion carries locale keys, never wording: `label` ("crit.<criterion>") names it and `advice`
("advice.<reason>") says what to do; signlink/web/locales holds the text. `message` is that advice
rendered in both languages from the same catalogue, for readers that show text as it comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from signlink.quality.messages import text


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"  # the window does not hold enough data yet
    # The window was full but this criterion had nothing to be measured on (no face and no hands to
    # frame, no edges to judge focus by): never shown as Good, and the verdict does not pass.
    NOT_MEASURED = "not_measured"


class Criterion(StrEnum):
    """The criteria, in the order they are shown; their names are defined here only."""

    RESOLUTION = "resolution"
    FRAME_RATE = "frame_rate"
    HANDS = "hands"
    FRAMING = "framing"
    FACE = "face"
    LIGHT = "light"
    SHARPNESS = "sharpness"
    FROZEN = "frozen"

    @property
    def label(self) -> str:
        """The locale key of the criterion's name."""
        return f"crit.{self.value}"


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    value: float | None  # the measured value the status was decided on (None: not measured)
    threshold: float | None  # the limit it was compared with
    advice: str | None = None  # locale key of what to do ("advice.<reason>"); set when failing

    @property
    def message(self) -> dict[str, str]:
        """The advice in every locale ({"en": ..., "zh-CN": ...}); empty strings when there is none."""
        return text(self.advice)

    def to_dict(self) -> dict[str, object]:
        return {
            "criterion": self.criterion.value,
            "status": self.status.value,
            "value": self.value,
            "threshold": self.threshold,
            "label": self.criterion.label,
            "advice": self.advice,
            "message": self.message,
        }


@dataclass(frozen=True)
class Verdict:
    passed: bool  # every criterion PASS
    complete: bool  # the window held enough data to judge (no PENDING)
    criteria: tuple[CriterionResult, ...]
    metrics: dict[str, float | int | None]

    def failing(self) -> tuple[CriterionResult, ...]:
        return tuple(result for result in self.criteria if result.status is Status.FAIL)

    def not_measured(self) -> tuple[CriterionResult, ...]:
        return tuple(result for result in self.criteria if result.status is Status.NOT_MEASURED)

    def result(self, criterion: Criterion) -> CriterionResult:
        """The result for one criterion (every verdict has one for each)."""
        for result in self.criteria:
            if result.criterion is criterion:
                return result
        raise KeyError(criterion)

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "complete": self.complete,
            "criteria": [result.to_dict() for result in self.criteria],
            "metrics": dict(self.metrics),
        }
