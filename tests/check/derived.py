"""Clips of tests/quality/encoded.py as a WHIP publisher sends them: the encoder's own packets.

A recipe is rendered and encoded by ffmpeg (libvpx or libx264 at the recipe's bitrate), then its
packets are sent as they are, never re-encoded: the server decodes what that encoder made (a
freeze re-coded at each keyframe, blocks at 110 kbps). H.264 goes out as Annex B, as RTP carries it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.bitstream import BitStreamFilterContext

from tests.check.whip_client import EncodedClip
from tests.quality.encoded import Recipe, encode, render

CODECS = {"vp8": "VP8", "h264": "H264"}


def packets_of(path: Path, codec: str) -> EncodedClip:
    """The video packets of an encoded file with their times from the first one (seconds)."""
    packets: list[tuple[bytes, float]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        base = stream.time_base or Fraction(1, 1000)
        annexb = BitStreamFilterContext("h264_mp4toannexb", stream) if codec == "h264" else None
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            for out in annexb.filter(packet) if annexb else [packet]:
                packets.append((bytes(out), float((out.pts or 0) * base)))
    packets.sort(key=lambda p: p[1])  # no B-frames here, but decode order is not promised
    first = packets[0][1]
    step = (packets[-1][1] - first) / max(1, len(packets) - 1)
    timed = tuple((data, seconds - first) for data, seconds in packets)
    return EncodedClip(timed, timed[-1][1] + step, width, height, CODECS[codec])


def derived_clip(media: Path, recipe: Recipe, folder: Path) -> EncodedClip:
    """The recipe's clip as packets (its file built once in `folder`, named by the recipe)."""
    name = f"whip-{abs(hash(recipe)):x}"
    found = next(iter(folder.glob(name + ".*")), None)
    path = found or encode(render(media, recipe), recipe, folder / name)
    return packets_of(path, recipe.codec)
