"""Every limit the video check applies, in one place, each with its source.

"measured" figures were measured on ../shared/media (see MANIFEST.tsv there) with this analyser:
good clips and the bad cases tests/quality derives from them (darkened, blurred, frozen, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # Resolution: EN 301 549 V3.2.1 §6.5.2 (at least QVGA, 320x240; VGA preferred). Judged on the
    # short and long side so a portrait (phone) picture of 240x320 counts as QVGA too.
    min_short_side: int = 240
    min_long_side: int = 320
    # Frame rate: EN 301 549 §6.5.3 and ITU-T H-Series Supplement 1 (sign language needs at least
    # 20 frames/s; below about 12 it breaks down). Measured from frame timestamps, not the browser's claim.
    min_fps: float = 20.0
    # Allowance for timestamp jitter: a nominal 20 fps camera may deliver one frame fewer in a 1 s window.
    fps_tolerance: float = 0.05

    # Hands: issue 2, "at least one hand detected in most of the sampled frames": more than half,
    # so one lucky frame is not a pass.
    min_hand_share: float = 0.6
    # Framing: a hand whose landmarks reach this close (share of the frame) to an edge is cut off.
    edge_margin: float = 0.01
    # Cut off in more than a third of the frames with hands: "Move back". Measured: a thumbs-up raised
    # through the top edge in mps_woman_face_then_thumbsup_8s is cut off for 0.3 s.
    max_cut_off_share: float = 0.34
    # Hand extent (longest side of its landmarks' box) over the frame's short side, median over the
    # window. W3C WAI: the signer fills at least a third of the frame; measured: a head-to-waist signer
    # at 1280x720 0.13-0.21, a person 4 m away in a room is not detected at all, close-up hands 0.4-0.6.
    min_hand_extent: float = 0.06
    max_hand_extent: float = 0.8

    # Face (facial expression is grammar in sign languages): found in at least half the frames the
    # face detector ran on (signing hands pass in front of the face).
    min_face_share: float = 0.5
    # Measured: real faces in media/ score 0.86-0.96; a close-up hand mistaken for a face scores up to 0.75.
    min_face_score: float = 0.8
    # A "face" mostly covered by a detected hand is the hand (measured: the fingerspelling clip).
    max_face_hand_overlap: float = 0.6

    # Light, measured on the signer (hands and face regions), never on the background.
    # Mean luma (BT.601, 0-255) measured: well-lit faces and hands in media/ 95-175.
    min_luma: float = 50.0
    max_luma: float = 215.0
    black_level: int = 16  # a pixel at or below this is "near black" (BT.601 black)
    white_level: int = 245  # a pixel at or above this is "blown out"
    max_black_share: float = 0.5
    max_white_share: float = 0.3
    # Backlight: the whole frame this much brighter than a too-dark signer means the light is behind them.
    backlight_margin: float = 40.0
    # RMS contrast (standard deviation of luma) on the signer: measured 25-60 on media/.
    min_contrast: float = 12.0

    # Sharpness: variance of the Laplacian over the variance of luma (gain-invariant, so a dark
    # picture is not also "blurred") on the signer, at a working size with a short side of
    # `working_short_side` (resolution-normalised). Measured: sharp media/ 0.2-0.6, blurred 0.05.
    min_sharpness: float = 3.0
    working_short_side: int = 240

    # Frozen picture: consecutive analysed frames whose 64x48 thumbnails differ by less than this
    # mean absolute luma are "the same picture"; frozen when that holds for most of the window.
    # Measured: a person holding still in media/ >= 0.6; a repeated frame 0.0.
    frozen_difference: float = 0.05
    max_frozen_share: float = 0.8

    # The window is judged once it spans this share of window_s and holds this many analysed frames
    # (at 10 analysed frames/s; a 8 fps camera gives 8: enough to fail it on frame rate).
    min_window_share: float = 0.85
    min_analysed_frames: int = 6
    min_face_frames: int = 2


DEFAULT_THRESHOLDS = Thresholds()
