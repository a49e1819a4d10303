"""Why a criterion fails (a `Reason`) and the locale key of the advice it gives; text from the locales.

The wording lives only in signlink/web/locales/<locale>.json, under "advice.<reason>" (what to do)
and "crit.<criterion>" (the criterion's name). Many signers read the written language as a second
language (USER-NEEDS.md): each advice is one short sentence that says what to do, naming the cause.
`text()` reads the catalogue shipped in the package (read once, cached), so the page, the offer and
the command line show the same words.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources

LOCALES = ("en", "zh-CN")


class Reason(StrEnum):
    LOW_RESOLUTION = "low_resolution"
    LOW_FRAME_RATE = "low_frame_rate"
    DARK_SLOWS_CAMERA = "dark_slows_camera"  # webcams lower their frame rate in the dark
    BUSY_DEVICE = "busy_device"  # the sender says its CPU limits the video
    SLOW_CONNECTION = "slow_connection"  # the sender says bandwidth limits it, or packets are lost
    NO_HANDS = "no_hands"
    HANDS_CUT_OFF = "hands_cut_off"
    HANDS_TOO_BIG = "hands_too_big"
    MOVE_CLOSER = "move_closer"
    MOVE_BACK = "move_back"
    MOVE_TO_CENTRE = "move_to_centre"
    HEAD_CUT_OFF = "head_cut_off"
    NO_FACE = "no_face"
    TOO_DARK = "too_dark"
    BACKLIT = "backlit"
    TOO_BRIGHT = "too_bright"
    LOW_CONTRAST = "low_contrast"
    BLURRED = "blurred"
    COMPRESSED = "compressed"  # blocky or starved of bits: the connection, not the lens
    FROZEN = "frozen"
    CAMERA_STOPPED = "camera_stopped"  # the sender says the track is muted or sends no new frames

    @property
    def key(self) -> str:
        """The locale key of the advice."""
        return f"advice.{self.value}"


def advice(reason: Reason | None) -> str | None:
    return reason.key if reason is not None else None


@cache
def _catalogue(locale: str) -> dict[str, str]:
    raw = resources.files("signlink.web").joinpath("locales", f"{locale}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(raw)
    return data


def text(key: str | None) -> dict[str, str]:
    """The text of a locale key in every locale (a fresh dict); empty strings for no key."""
    if key is None:
        return dict.fromkeys(LOCALES, "")
    return {locale: _catalogue(locale).get(key) or _catalogue("en").get(key, key) for locale in LOCALES}


def message(reason: Reason | None) -> dict[str, str]:
    """The advice for a failure reason in every locale (what tests and the command line compare with)."""
    return text(advice(reason))
