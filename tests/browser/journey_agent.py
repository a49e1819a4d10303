"""The agent's side of a call, scripted in Python, for the customer-journey browser tests.

A real staff account logs in through /login, speaks the /ws protocol over a real WebSocket and runs a
real aiortc peer (the offerer) that sends a pre-encoded clip and counts the frames it gets back from
the customer's browser. Not a mock: the same wire and the same media a browser agent would use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from redis.asyncio import Redis

from signlink.config import Settings
from tests.check.whip_client import ClipTrack, EncodedClip
from tests.support.staff import PASSWORD, add_account

WAIT_S = 15.0


class ScriptedAgent:
    """Log in, connect, take an offer, and run the call's media; messages are kept for `expect`."""

    def __init__(self, base_url: str, clip: EncodedClip) -> None:
        self.base = base_url
        self.clip = clip
        # unsafe=True: keep cookies for an IP-address host (the test server is 127.0.0.1).
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.session: dict[str, Any] | None = None
        self.seen: list[dict[str, Any]] = []
        self.frames_received = 0  # frames decoded from the customer's camera
        self.auto_ack_chat = True
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def create(
        cls,
        base_url: str,
        clip: EncodedClip,
        settings: Settings,
        redis: Redis,
        *,
        username: str = "ana",
        display_name: str = "Ana Li",
        languages: tuple[str, ...] = ("CSL", "ASL"),
    ) -> ScriptedAgent:
        await add_account(
            settings, redis, username, display_name=display_name, languages=languages, topics=("phone", "pc")
        )
        agent = cls(base_url, clip)
        form = {"username": username, "password": PASSWORD}
        async with agent.http.post(f"{base_url}/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        return agent

    # ---- the socket ----

    async def connect(self, pc: str = "new") -> dict[str, Any]:
        self.ws = await self.http.ws_connect(f"{self.base}/ws")
        await self.send({"type": "hello", "role": "agent", "pc": pc})
        self._spawn(self._pump(self.ws))
        return await self.expect("welcome")

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def status(self, status: str) -> None:
        await self.send({"type": "status", "status": status})
        await self.expect("agent", status=status)

    async def _pump(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data: dict[str, Any] = json.loads(msg.data)
            await self._handle(data)
            async with self._changed:
                self.seen.append(data)
                self._changed.notify_all()

    async def expect(
        self, kind: str, *, after: int = 0, wait_s: float = WAIT_S, **match: Any
    ) -> dict[str, Any]:
        """The first message of `kind` (with these field values) seen at index >= `after`."""

        def found() -> dict[str, Any] | None:
            for data in self.seen[after:]:
                if data["type"] == kind and all(data.get(k) == v for k, v in match.items()):
                    return data
            return None

        async with asyncio.timeout(wait_s), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        result = found()
        assert result is not None
        return result

    async def wait_until(self, check: Callable[[], bool], *, wait_s: float = WAIT_S) -> None:
        """Until `check()` holds; it is tried again after every message and every received frame."""
        async with asyncio.timeout(wait_s), self._changed:
            await self._changed.wait_for(check)

    # ---- the call ----

    async def accept_next_offer(self) -> dict[str, Any]:
        offer = await self.expect("offer")
        await self.send({"type": "accept", "offer_id": offer["offer_id"]})
        return offer

    async def _handle(self, data: dict[str, Any]) -> None:
        kind = data["type"]
        if kind == "session":
            self.session = data
            await self._fresh_offer()
        elif kind == "welcome" and data["state"].get("session"):
            self.session = data["state"]["session"]
            if self.pc is None:  # this agent lost its peer: a fresh one (else the media never stopped)
                await self._fresh_offer()
        elif kind == "signal":
            await self._signal(data["data"])
        elif kind == "peer" and data["state"] == "rejoined" and data["pc"] != "live":
            # The customer reloaded: a fresh peer. (aiortc cannot restart ICE, so a customer who
            # kept a live peer keeps it as it is; the browser console restarts ICE instead.)
            await self._fresh_offer()
        elif kind == "chat" and self.auto_ack_chat:
            await self.send({"type": "chat_ack", "id": data["id"]})

    async def _fresh_offer(self) -> None:
        await self._close_pc()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = self.pc.addTransceiver(ClipTrack(self.clip), direction="sendrecv")
        vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/VP8"]
        transceiver.setCodecPreferences(vp8)
        self.pc.on("track", self._count_frames)
        # aiortc gathers before it returns the description: the offer carries every candidate.
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription
        await self.send({"type": "signal", "data": {"sdp": {"type": sdp.type, "sdp": sdp.sdp}}})

    async def _signal(self, data: dict[str, Any]) -> None:
        if self.pc is None:
            return
        if "sdp" in data and data["sdp"]["type"] == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(**data["sdp"]))
        elif data.get("candidate"):
            raw = data["candidate"]
            if not raw.get("candidate"):
                return
            candidate = candidate_from_sdp(raw["candidate"].split(":", 1)[1])
            candidate.sdpMid = raw.get("sdpMid")
            candidate.sdpMLineIndex = raw.get("sdpMLineIndex")
            await self.pc.addIceCandidate(candidate)

    def _count_frames(self, track: MediaStreamTrack) -> None:
        async def drain() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    self.frames_received += 1
                    async with self._changed:
                        self._changed.notify_all()

        self._spawn(drain())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def chat(self, chat_id: str, text: str) -> None:
        await self.send({"type": "chat", "id": chat_id, "text": text})

    async def end_call(self) -> None:
        await self.send({"type": "end"})

    async def drop_socket(self) -> None:
        """The agent's network blips: the socket goes, the peer stays (hello pc=live to come back)."""
        if self.ws is not None:
            await self.ws.close()

    async def _close_pc(self) -> None:
        if self.pc is not None:
            pc, self.pc = self.pc, None
            await pc.close()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self._close_pc()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.http.close()
