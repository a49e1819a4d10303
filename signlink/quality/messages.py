"""What a failing criterion tells the customer: short, plain, actionable, in en and zh-CN.

Many signers read the written language as a second language (USER-NEEDS.md): one short sentence
that says what to do, no jargon.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    LOW_RESOLUTION = "low_resolution"
    LOW_FRAME_RATE = "low_frame_rate"
    NO_HANDS = "no_hands"
    HANDS_CUT_OFF = "hands_cut_off"
    HANDS_TOO_SMALL = "hands_too_small"
    HANDS_TOO_BIG = "hands_too_big"
    NO_FACE = "no_face"
    TOO_DARK = "too_dark"
    BACKLIT = "backlit"
    TOO_BRIGHT = "too_bright"
    LOW_CONTRAST = "low_contrast"
    BLURRED = "blurred"
    FROZEN = "frozen"


MESSAGES: dict[Reason, dict[str, str]] = {
    Reason.LOW_RESOLUTION: {
        "en": "The picture is too small. Use a better camera or a faster connection.",
        "zh-CN": "画面太小。请换用更好的摄像头或更快的网络。",
    },
    Reason.LOW_FRAME_RATE: {
        "en": "The video is jerky. Close other apps or move closer to your Wi-Fi router.",
        "zh-CN": "视频不流畅。请关闭其他应用，或靠近 Wi-Fi 路由器。",
    },
    Reason.NO_HANDS: {
        "en": "Raise your hands so the camera can see them.",
        "zh-CN": "请举起双手，让摄像头看到。",
    },
    Reason.HANDS_CUT_OFF: {
        "en": "Move back so both hands are in view.",
        "zh-CN": "请往后退一点，让双手都在画面里。",
    },
    Reason.HANDS_TOO_SMALL: {
        "en": "Move closer to the camera.",
        "zh-CN": "请靠近摄像头一点。",
    },
    Reason.HANDS_TOO_BIG: {
        "en": "Move back so both hands are in view.",
        "zh-CN": "请往后退一点，让双手都在画面里。",
    },
    Reason.NO_FACE: {
        "en": "Move so your face and hands are both in view.",
        "zh-CN": "请调整位置，让脸和双手都在画面里。",
    },
    Reason.TOO_DARK: {
        "en": "Turn on a light in front of you.",
        "zh-CN": "请打开你前面的灯。",
    },
    Reason.BACKLIT: {
        "en": "The light is behind you. Face the light or turn on a light in front of you.",
        "zh-CN": "光线在你身后。请面向光源，或打开你前面的灯。",
    },
    Reason.TOO_BRIGHT: {
        "en": "Too bright. Move out of direct sunlight or turn the light down.",
        "zh-CN": "太亮了。请避开阳光直射，或把灯调暗一点。",
    },
    Reason.LOW_CONTRAST: {
        "en": "The picture looks grey. Wipe the camera lens and light yourself from the front.",
        "zh-CN": "画面发灰。请擦一擦摄像头镜头，并让光从前面照到你。",
    },
    Reason.BLURRED: {
        "en": "The picture is blurred. Wipe the camera lens and keep the camera still.",
        "zh-CN": "画面模糊。请擦一擦摄像头镜头，并保持摄像头稳定。",
    },
    Reason.FROZEN: {
        "en": "Your picture is frozen. Close other apps that use the camera, then try again.",
        "zh-CN": "画面卡住了。请关闭其他正在使用摄像头的应用，然后重试。",
    },
}

NO_MESSAGE: dict[str, str] = {"en": "", "zh-CN": ""}


def message(reason: Reason | None) -> dict[str, str]:
    """The message for a failure reason (a fresh dict), or empty strings when there is none."""
    return dict(MESSAGES[reason] if reason is not None else NO_MESSAGE)
