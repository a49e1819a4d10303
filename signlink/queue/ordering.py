"""The order of waiting tickets: one number per ticket, fixed when it joins.

A ticket of class c that joined at time j has priority, t seconds later,
    points(c) + aging_points_per_min * (t - j) / 60,
and the best ticket is the one with the most points. All tickets age at the same rate, so this order
never changes while they wait and equals the order of the static score
    score = j - 60 * points(c) / aging_points_per_min      (lower is better)
which is what the skill queues (sorted sets) hold. Equal scores fall back to the ticket id, a
zero-padded sequence number: first in, first out.

points(c) = class_gap_points * (number of classes below c). The first class (emergency) is not on this
scale at all: it sits a whole band (BAND_S) lower, so it is above everything, however long others wait.
With aging_points_per_min = 0 every class gets its own band: strict class order, FIFO within a class.
"""

from __future__ import annotations

from collections.abc import Mapping

from signlink.config import Settings

# Larger than any waiting time or head start, and small enough that scores near 1e10 + epoch keep
# microsecond resolution in a double.
BAND_S = 1e10


def class_offsets(settings: Settings) -> Mapping[str, float]:
    """score = offset[class] + join time, for every configured class."""
    classes = settings.priority_classes
    offsets = {classes[0]: -BAND_S}
    below = len(classes) - 1
    for rank, name in enumerate(classes[1:], start=1):
        if settings.aging_points_per_min > 0:
            points = settings.class_gap_points * (below - rank)
            offsets[name] = -60.0 * points / settings.aging_points_per_min
        else:
            offsets[name] = (rank - 1) * BAND_S
    return offsets


def score(settings: Settings, priority_class: str, joined_at: float) -> float:
    return class_offsets(settings)[priority_class] + joined_at
