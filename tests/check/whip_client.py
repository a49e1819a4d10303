"""A WHIP publisher made of a real aiortc peer, for tests and benchmarks (not a mock of anything).

The clip is encoded to VP8 once (PyAV's libvpx) and its packets are sent as they are, looped with
monotonic timestamps and paced at the clip's real rate. Sending pre-encoded packets keeps the
publisher cheap: in a browser the encoding happens on the customer's machine, and a benchmark of
the server should not pay for it.

Run as a module (`python -m tests.check.whip_client URL CLIP [--count N] ...`) it publishes
from its own process and prints each check's URL: a test can then kill -9 it, like a browser that
vanishes; a benchmark uses it as a load generator beside the server.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from yarl import URL

VIDEO_CLOCK = fractions.Fraction(1, 90000)


@dataclass(frozen=True)
class EncodedClip:
    packets: tuple[tuple[bytes, float], ...]  # (VP8 frame, seconds from the clip's start)
    duration_s: float
    width: int
    height: int

    @property
    def fps(self) -> float:
        return len(self.packets) / self.duration_s


@dataclass(frozen=True)
class ClipSpec:
    """Which part of which file to send: seconds [start_s, end_s), scaled to `width` (None: as is),
    at most `fps` frames a second (None: every frame; a capped sender like the waiting-room watch)."""

    path: Path
    start_s: float = 0.0
    end_s: float | None = None
    width: int | None = None
    fps: float | None = None

    def args(self) -> list[str]:
        """The same clip on the command line of this module."""
        args = [str(self.path), "--start", str(self.start_s)]
        args += ["--end", str(self.end_s)] if self.end_s is not None else []
        args += ["--fps", str(self.fps)] if self.fps else []
        return args + (["--width", str(self.width)] if self.width else [])


# A well-lit woman, thumb up in front of her face, from 2.4 s to 4.4 s of the clip, at 640x360
# (the segment tests/quality passes with the analyser), looped: hands up from the first frame.
GOOD_CLIP = ("videos/mps_woman_face_then_thumbsup_8s.mp4", 2.4, 4.4, 640)
# A person far away in a room: MediaPipe finds no hand in any frame.
NO_HANDS_CLIP = ("videos/tfjs_person_far_in_room_4s.mp4", 0.0, None, None)


def clip_spec(media: Path, clip: tuple[str, float, float | None, int | None]) -> ClipSpec:
    name, start_s, end_s, width = clip
    return ClipSpec(media / name, start_s, end_s, width)


@cache
def encode_clip(spec: ClipSpec, *, cache_dir: Path | None = None) -> EncodedClip:
    """The clip's video as VP8 packets with their presentation times (encoded once, cached on disk)."""
    stat = spec.path.stat()
    key = hashlib.sha256(f"{spec}:{stat.st_size}:{stat.st_mtime_ns}:{ENCODING}:{BITRATE}".encode())
    cached = (cache_dir / f"{spec.path.stem}-{key.hexdigest()[:16]}.vp8") if cache_dir else None
    if cached is not None and cached.is_file():
        return _load(cached.read_bytes())
    clip = _encode(spec)
    if cached is not None:
        cached.write_bytes(_dump(clip))
    return clip


# Real-time settings, like a browser: no look-ahead, so no hidden alt-ref frames.
ENCODING = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "auto-alt-ref": "0"}
BITRATE = 2_000_000
KEYFRAME_EVERY = 30


def _encode(spec: ClipSpec) -> EncodedClip:
    packets: list[tuple[bytes, float]] = []
    with av.open(str(spec.path)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if spec.width:
            width, height = spec.width, round(height * spec.width / width)
        width, height = width // 2 * 2, height // 2 * 2
        encoder = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = VIDEO_CLOCK
        encoder.bit_rate = BITRATE
        encoder.gop_size = KEYFRAME_EVERY
        encoder.options = dict(ENCODING)
        step = 1 / float(stream.average_rate or 30)
        if spec.fps:
            step = max(step, 1 / spec.fps)
        next_kept = spec.start_s
        for frame in container.decode(stream):
            seconds = float(frame.time or 0.0)
            if seconds < spec.start_s - 1e-6:
                continue
            if spec.end_s is not None and seconds >= spec.end_s - 1e-6:
                break
            if spec.fps:
                if seconds < next_kept - 1e-6:
                    continue
                next_kept += 1 / spec.fps
            image = frame.reformat(width=width, height=height, format="yuv420p")
            image.pts = round((seconds - spec.start_s) / VIDEO_CLOCK)
            image.time_base = VIDEO_CLOCK
            packets += [(bytes(p), float((p.pts or 0) * VIDEO_CLOCK)) for p in encoder.encode(image)]
        packets += [(bytes(p), float((p.pts or 0) * VIDEO_CLOCK)) for p in encoder.encode(None)]
    if not packets:
        raise ValueError(f"no video in {spec}")
    first = packets[0][1]
    packets = [(data, seconds - first) for data, seconds in packets]
    return EncodedClip(tuple(packets), packets[-1][1] + step, width, height)


def _dump(clip: EncodedClip) -> bytes:
    index = {
        "width": clip.width,
        "height": clip.height,
        "duration_s": clip.duration_s,
        "packets": [(len(data), seconds) for data, seconds in clip.packets],
    }
    return json.dumps(index).encode() + b"\n" + b"".join(data for data, _ in clip.packets)


def _load(blob: bytes) -> EncodedClip:
    header, _, body = blob.partition(b"\n")
    index = json.loads(header)
    packets, at = [], 0
    for size, seconds in index["packets"]:
        packets.append((body[at : at + size], float(seconds)))
        at += size
    return EncodedClip(tuple(packets), index["duration_s"], index["width"], index["height"])


class ClipTrack(MediaStreamTrack):
    """Sends an EncodedClip's packets at its real rate, looping, timestamps always increasing."""

    kind = "video"

    def __init__(self, clip: EncodedClip, *, loop: bool = True) -> None:
        super().__init__()
        self.clip = clip
        self.loop = loop
        self.sent = 0
        self.first_sent_at: float | None = None  # time.monotonic() of the first packet handed out

    async def recv(self) -> av.Packet:  # type: ignore[type-arg]
        if self.readyState != "live":
            raise MediaStreamError
        lap, index = divmod(self.sent, len(self.clip.packets))
        if lap and not self.loop:
            self.stop()
            raise MediaStreamError
        data, offset = self.clip.packets[index]
        pts = lap * self.clip.duration_s + offset
        if self.first_sent_at is None:
            self.first_sent_at = time.monotonic()
        else:
            await asyncio.sleep(max(0.0, self.first_sent_at + pts - time.monotonic()))
        packet = av.Packet(data)
        packet.pts = round(pts / VIDEO_CLOCK)
        packet.time_base = VIDEO_CLOCK
        self.sent += 1
        return packet


@dataclass
class Publication:
    """A started WHIP check: the client's peer, the check's absolute URL and the server's answer."""

    pc: RTCPeerConnection
    url: str
    answer: str

    @property
    def events_url(self) -> str:
        return f"{self.url}/events"


def peer_with(track: MediaStreamTrack | None, *, audio: bool = False) -> RTCPeerConnection:
    """A publishing peer: video send-only, VP8 (the codec of the pre-encoded packets)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if track is not None:
        transceiver = pc.addTransceiver(track, direction="sendonly")
        vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"]
        transceiver.setCodecPreferences(vp8)
    if audio:
        pc.addTransceiver("audio", direction="sendonly")
    return pc


async def offer_of(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    return sdp


async def publish(http: aiohttp.ClientSession, url: str, track: MediaStreamTrack) -> Publication:
    """POST an offer to `url` (…/api/checks) and connect; raises if the server refuses."""
    pc = peer_with(track)
    try:
        body = await offer_of(pc)
        async with http.post(url, data=body, headers={"Content-Type": "application/sdp"}) as response:
            answer = await response.text()
            if response.status != 201:
                raise RuntimeError(f"POST {url}: {response.status} {answer}")
            location = str(response.url.join(URL(response.headers["Location"])))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    except BaseException:
        await pc.close()
        raise
    return Publication(pc, location, answer)


async def events(http: aiohttp.ClientSession, url: str) -> AsyncIterator[tuple[str, dict[str, object]]]:
    """Read a server-sent events stream: (event name, JSON data) until the server closes it."""
    async with http.get(url, headers={"Accept": "text/event-stream"}) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {await response.text()}")
        name, data = "message", ""
        async for raw in response.content:
            line = raw.decode().rstrip("\r\n")
            if not line:
                if data:
                    yield name, json.loads(data)
                name, data = "message", ""
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()


async def final_verdict(http: aiohttp.ClientSession, url: str) -> tuple[dict[str, object], int]:
    """The `verdict` event of a check's stream and how many `feedback` events came before it."""
    feedback = 0
    async for name, data in events(http, url):
        if name == "verdict":
            return data, feedback
        feedback += name == "feedback"
    raise AssertionError("the events stream ended without a verdict")


async def _main() -> None:
    from tests.support import loopback_ice

    parser = argparse.ArgumentParser(description="publish a clip into a signlink check, print its URL")
    parser.add_argument("url", help="…/api/checks ({n} in it: the stream's number, e.g. ?watch=id-{n})")
    parser.add_argument("clip", type=Path)
    parser.add_argument("--start", type=float, default=0.0)
    parser.add_argument("--end", type=float)
    parser.add_argument("--width", type=int)
    parser.add_argument("--fps", type=float, help="at most this many frames a second")
    parser.add_argument("--cache", type=Path, help="encoded-clip cache folder")
    parser.add_argument("--count", type=int, default=1, help="streams to publish")
    args = parser.parse_args()
    loopback_ice.install()
    clip = encode_clip(ClipSpec(args.clip, args.start, args.end, args.width, args.fps), cache_dir=args.cache)
    async with aiohttp.ClientSession() as http:
        publications = await asyncio.gather(
            *(publish(http, args.url.replace("{n}", str(n)), ClipTrack(clip)) for n in range(args.count))
        )
        for publication in publications:
            print(publication.url, flush=True)
        await asyncio.sleep(3600)  # until killed


if __name__ == "__main__":
    asyncio.run(_main())
