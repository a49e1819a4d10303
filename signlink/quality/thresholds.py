"""Every limit the video check applies, in one place, each with its source.

"Measured" figures come from ../shared/media (MANIFEST.tsv there) run through this analyser: the
good clips and the bad cases tests/quality derives from them (darkened, blurred, frozen, ...).
The table of every threshold with the margins the encoded clips show on both sides, and the
accuracy over them, is in docs/protocol.md ("Thresholds and their margins"; benchmarks/quality.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # Resolution: EN 301 549 V3.2.1 §6.5.2 (at least QVGA, 320x240; VGA preferred). Judged on the
    # short and the long side, so a portrait (phone) picture of 240x320 counts as QVGA too.
    min_short_side: int = 240
    min_long_side: int = 320
    # Frame rate: EN 301 549 §6.5.3 and ITU-T H-Series Supplement 1 (sign language needs at least
    # 20 frames/s; below about 12 it breaks down). Measured from frame timestamps, not the browser's claim.
    min_fps: float = 20.0
    # Allowance for timestamp jitter: a nominal 20 fps camera may deliver one frame fewer in a 1 s window.
    fps_tolerance: float = 0.05

    # Hands: issue 2, "at least one hand detected in most of the sampled frames": more than half,
    # so one lucky frame is not a pass. Measured: a fast wave (pose_webcam_woman_wave) is found in 25%
    # of frames, at most half of any 1 s window, and fails; hands held up are found in 100%.
    min_hand_share: float = 0.6
    # Framing: a hand whose landmarks come this close (share of the frame) to an edge is cut off.
    edge_margin: float = 0.01
    # Cut off in more than a third of the frames with hands: "Move back". Measured: a thumb raised
    # through the top edge (mps_woman_face_then_thumbsup, 1.9-2.2 s) is cut off in 27% of a window.
    max_cut_off_share: float = 0.34
    # Hand extent: the longest side of a hand's landmark box over the frame's short side (median over
    # the window). Only "too big" is judged on it now (hands filling the picture); the size of the
    # signer is judged on the whole body below. Measured: a signer head to waist 0.17-0.22; a thumb
    # held towards the camera 0.25-0.52; two hands filling the picture (tfjs_two_hands) 0.89.
    max_hand_extent: float = 0.8

    # Framing on the whole signer, from the face box (BlazeFace: brows to chin) and the hands: the
    # body is estimated from the face as human proportions give it (the top of the head a quarter
    # of a face height above the box; the waist `waist_faces` face heights below the box's top;
    # the signing space, elbows out, `reach_faces` face widths either side of the face's centre).
    # W3C WAI media guide / USER-NEEDS.md: the signer fills at least a third of the frame, the
    # signing space from above the head to below the waist in view.
    head_faces: float = 0.25
    waist_faces: float = 3.3
    reach_faces: float = 2.0
    # How far (share of the frame) the estimated head top, waist or elbows may fall outside the frame.
    # Measured: the good signer's waist estimate falls at 0.85-0.95 of the frame height at 640x480.
    frame_tolerance: float = 0.08
    # The estimated signer (head top to waist, elbow to elbow, clipped to the frame, united with the
    # hands' boxes) over the frame's area. Measured: good signer 0.45-0.5; a signer filling 5% of the
    # frame 0.03-0.05; a small thumbs-up signer 0.08-0.12.
    min_signer_share: float = 0.3
    # The signer's centre (of the estimated box) this far from the frame's centre: "move to the centre".
    max_off_centre: float = 0.2
    # The full-range face detector, run only when the short-range one finds no face, looks for a
    # small (far) face: at `min_far_face_score` its faces count only when this small (face height /
    # frame height); bigger ones need `min_face_score`, so a close fist is not taken. Measured: a face
    # of a signer filling 5% of the frame 0.06 at score 0.53-0.62; a head-to-waist signer at 640x360
    # through VP8 (face 0.23), which the near detector scores only 0.73-0.82, 0.95-0.97; the
    # fingerspelling clip's fist at most 0.65.
    max_far_face: float = 0.15
    min_far_face_score: float = 0.5

    # Face (facial expression is grammar in sign languages): found in at least half of the frames the
    # face detector ran on (signing hands pass in front of the face). A close-up hand with no face
    # fails: the page asks for head-to-waist framing.
    min_face_share: float = 0.5
    # Measured: real faces in media/ score 0.86-0.96; a close-up fist taken for a face (the
    # fingerspelling clip) scores up to 0.75.
    min_face_score: float = 0.8
    # A "face" mostly inside a detected hand's box is that hand (measured: the fingerspelling clip, 0.94).
    max_face_hand_overlap: float = 0.6

    # Light, measured on the signer (hands and face), never on the background.
    # Mean luma (BT.601, 0-255). Measured on the signer: well lit 69-191 (a man in a black shirt 69;
    # the thumbs-up clip 85 on a black background whose whole frame is 28); darkened to 30%: 20-57.
    min_luma: float = 50.0
    max_luma: float = 215.0
    black_level: int = 16  # at or below: near black (BT.601 black)
    white_level: int = 245  # at or above: blown out
    # Measured: near-black share up to 0.29 when well lit (a black shirt is near black).
    max_black_share: float = 0.5
    max_white_share: float = 0.3
    # Backlight: the whole frame this much brighter than a too-dark signer means light from behind.
    backlight_margin: float = 40.0
    # RMS contrast (standard deviation of luma) on the signer. Measured: 22-60 well lit.
    min_contrast: float = 12.0

    # Sharpness (measures.sharpness): detail energy lost to a re-blur, at a working size whose short
    # side is `working_short_side` (resolution-normalised; never upscaled). Measured: sharp media
    # 4.2-12, the soft, moving reaching hand 2.1-2.5 (then 3-5 once it holds still); blurred by 0.7% of
    # the short side 1.7-2.0 (with added sensor noise 1.9-2.6).
    min_sharpness: float = 3.0
    working_short_side: int = 240

    # Frozen picture, judged by motion where it matters: the 99th percentile of the absolute luma
    # change, over the signer's regions (hands and face, grown; the centre when none is found), between
    # analysed frames `motion_lag_s` apart, after a light blur at the working size (grain averages
    # out). Frozen when no pair in the last `freeze_span_s` moved more than `frozen_motion`.
    # Measured on tests/quality/encoded.py clips: a still picture through VP8 (which keeps refining
    # it) 0.6-1.1, through x264 re-coding it at every 1 s keyframe 0.6-2.6; a still but live person
    # (grain sigma 5, breathing 1.5 px) 4.6-7.4; dim (25% light) signing 31; good signing 93-155.
    frozen_motion: float = 5.0
    motion_lag_s: float = 0.5
    freeze_span_s: float = 2.0
    # Landmark movement (hands, mean over the 21 points, share of the frame's short side, between
    # the same pairs): a metric beside the pixel motion; MediaPipe jitters on a still picture too.
    # The sender's view (SenderReport, from the page's getStats and track events): a muted track, or
    # framesEncoded not advancing over this long, is a stopped camera whatever the pixels show.
    stalled_encoder_s: float = 1.0

    # Compression, on the 8x8 grid of the decoded picture (the codecs' block size): gradient energy
    # across block boundaries over the energy inside blocks, in the signer's hands and face regions at
    # full resolution (median over the window). 1.0: no blocks. Measured (encoded clips, 640x480):
    # x264 600-800 kbps 1.09-1.19, VP8 300-800 kbps 1.05-1.15, x264 110 kbps 1.33 (blocks at the hands);
    # VP8 hides its blocks with its loop filter and smears instead (1.15 at 110 kbps): for it the
    # sender's bitrate tells (below).
    max_blockiness: float = 1.26
    # The sender's bitrate over the pixels it sends: bits per pixel per frame. Measured: 110 kbps at
    # 640x480x25 is 0.014 (hands smeared, issue 10); 300 kbps (Chrome's start rate) 0.039 looks fine.
    min_bits_per_pixel: float = 0.025
    # Packet loss (share of packets) the sender's stats report; above this the connection is named.
    max_packet_loss: float = 0.05

    # A window is judged once it spans this share of window_s and holds this many analysed frames
    # (10 per second by default; a camera at 8 fps gives 8: enough to fail it on frame rate) and
    # this many face-detector runs (every other analysed frame).
    min_window_share: float = 0.85
    min_analysed_frames: int = 6
    min_face_frames: int = 2


DEFAULT_THRESHOLDS = Thresholds()
