"""The video check: frames in, measurements and a verdict out. Pure: no I/O, no asyncio."""

from signlink.quality.analyser import Analyser
from signlink.quality.thresholds import DEFAULT_THRESHOLDS, Thresholds
from signlink.quality.verdict import Criterion, CriterionResult, Status, Verdict

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Analyser",
    "Criterion",
    "CriterionResult",
    "Status",
    "Thresholds",
    "Verdict",
]
