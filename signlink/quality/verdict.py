"""The outcome of a video check: one status per criterion, the measured values, and a pass/fail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"  # the window does not hold enough data yet


class Criterion(StrEnum):
    RESOLUTION = "resolution"
    FRAME_RATE = "frame_rate"
    HANDS = "hands"
    FRAMING = "framing"
    FACE = "face"
    LIGHT = "light"
    SHARPNESS = "sharpness"
    FROZEN = "frozen"


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: Status
    value: float | None  # the measured value the status was decided on (None: not measured)
    threshold: float | None  # the limit it was compared with
    message: dict[str, str]  # {"en": ..., "zh-CN": ...}; empty strings unless failing

    def to_dict(self) -> dict[str, object]:
        return {
            "criterion": self.criterion.value,
            "status": self.status.value,
            "value": self.value,
            "threshold": self.threshold,
            "message": dict(self.message),
        }


@dataclass(frozen=True)
class Verdict:
    passed: bool  # every criterion PASS
    complete: bool  # the window held enough data to judge (no PENDING)
    criteria: tuple[CriterionResult, ...]
    metrics: dict[str, float | int | None]

    def failing(self) -> tuple[CriterionResult, ...]:
        return tuple(result for result in self.criteria if result.status is Status.FAIL)

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
