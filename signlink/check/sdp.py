"""The SDP of a WHIP check: validate the browser's offer, tune the server's answer.

Pure text functions: no peer connection, no I/O. The offer is checked before any WebRTC state is
created, so a malformed or unsuitable offer costs nothing and gets a precise reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiortc import sdp as aiortc_sdp

from signlink.errors import BadRequest

# Codecs aiortc can decode; the answer picks the first the offer also lists.
VIDEO_CODECS = frozenset({"VP8", "H264"})
SENDING = frozenset({"sendrecv", "sendonly"})
MEDIA_KINDS = frozenset({"audio", "video"})

# aiortc sends REMB only (no transport-cc), so Chrome would stay near its ~300 kbps start rate and
# scale 640x480 down to 480x360 (FIELD-NOTES). These fmtp hints let it start and stay at VGA quality.
START_KBPS = 1500
MIN_KBPS = 600
MAX_KBPS = 2500

# aiortc's parser raises whatever its line handling trips over on garbage.
_PARSE_ERRORS = (ValueError, AssertionError, IndexError, KeyError, StopIteration, TypeError, AttributeError)
_LINE = re.compile(r"^[a-z]=.*$")


@dataclass(frozen=True)
class Offer:
    """A validated offer: the SDP text and the mid of its one video m-line."""

    sdp: str
    video_mid: str
    refused_mids: tuple[str, ...]


def _malformed(reason: str) -> BadRequest:
    return BadRequest(f"malformed SDP offer: {reason}", code="malformed_sdp")


def parse_offer(text: str) -> Offer:
    """Check that `text` is a usable WHIP offer: one video m-line we can receive and decode.

    Audio m-lines are allowed (browsers often add them) and later answered `inactive`.
    """
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise _malformed("it must start with v=0")
    bad = next((line for line in lines if not _LINE.match(line)), None)
    if bad is not None:
        raise _malformed(f"line {bad[:40]!r} is not of the form x=value")
    try:
        description = aiortc_sdp.SessionDescription.parse("\r\n".join(lines) + "\r\n")
    except _PARSE_ERRORS as exc:
        raise _malformed(f"cannot parse it ({type(exc).__name__})") from exc
    if not description.media:
        raise _malformed("it has no m-line")
    other = [m.kind for m in description.media if m.kind not in MEDIA_KINDS]
    if other:
        raise BadRequest(
            f"only audio and video m-lines are accepted, got {', '.join(other)}", code="unsupported_media"
        )
    videos = [m for m in description.media if m.kind == "video"]
    if not videos:
        raise BadRequest("the offer has no video m-line: the check needs the camera", code="no_video")
    if len(videos) > 1:
        raise BadRequest("the offer has more than one video m-line: send one camera", code="too_many_videos")
    video = videos[0]
    direction = video.direction or "sendrecv"  # RFC 4566: no attribute means sendrecv
    if direction not in SENDING:
        raise BadRequest(f"the video m-line is {direction}: it must send (sendonly)", code="no_video")
    codecs = {codec.mimeType.split("/", 1)[-1].upper() for codec in video.rtp.codecs}
    if not codecs & VIDEO_CODECS:
        raise BadRequest(
            f"no supported video codec offered (supported: {', '.join(sorted(VIDEO_CODECS))})",
            code="no_common_codec",
        )
    for media in description.media:
        if not media.rtp.muxId:
            raise _malformed(f"the {media.kind} m-line has no a=mid")
        if media.ice is None or not (media.ice.usernameFragment and media.ice.password):
            raise _malformed(f"the {media.kind} m-line has no ICE credentials (a=ice-ufrag, a=ice-pwd)")
        if media.dtls is None or not media.dtls.fingerprints:
            raise _malformed(f"the {media.kind} m-line has no DTLS fingerprint")
    refused = tuple(m.rtp.muxId for m in description.media if m.kind != "video")
    return Offer(sdp=text, video_mid=video.rtp.muxId, refused_mids=refused)


def tune_answer(answer: str) -> str:
    """Add x-google bitrate hints to the fmtp of every VP8/H264 payload of the video m-line."""
    hint = ";".join(
        f"x-google-{name}-bitrate={kbps}"
        for name, kbps in (("start", START_KBPS), ("min", MIN_KBPS), ("max", MAX_KBPS))
    )
    lines = answer.replace("\r\n", "\n").rstrip("\n").split("\n")
    kind = ""
    video_pts: list[str] = []
    with_fmtp: set[str] = set()
    for line in lines:
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif kind == "video" and line.startswith("a=rtpmap:"):
            pt, _, encoding = line[len("a=rtpmap:") :].partition(" ")
            if encoding.split("/", 1)[0].upper() in VIDEO_CODECS:
                video_pts.append(pt)
        elif kind == "video" and line.startswith("a=fmtp:"):
            with_fmtp.add(line[len("a=fmtp:") :].split(" ", 1)[0])
    out: list[str] = []
    kind = ""
    for line in lines:
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        tuned = line
        if kind == "video" and line.startswith("a=fmtp:"):
            pt = line[len("a=fmtp:") :].split(" ", 1)[0]
            if pt in video_pts:
                tuned = f"{line};{hint}"
        out.append(tuned)
        if kind == "video" and line.startswith("a=rtpmap:"):
            pt = line[len("a=rtpmap:") :].split(" ", 1)[0]
            if pt in video_pts and pt not in with_fmtp:
                out.append(f"a=fmtp:{pt} {hint}")
    return "\r\n".join(out) + "\r\n"
