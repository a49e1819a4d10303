"""One live video check: an aiortc peer that receives the camera, samples frames into an analyser.

The lifecycle, in `run()`: frames arrive on the event loop; each is noted (cheap) and, when the
analyser says it is due and the analyser is idle, handed to the shared worker pool. Frames that
arrive while this check's analysis is busy are dropped, never queued: a busy machine lowers the
analysed rate instead of adding delay. The check ends at the first complete passing verdict, at the
timeout, or when the browser goes away; then the analyser and the peer are closed, the slot is freed
and the verdict is recorded.

The analyser is not thread-safe. It is only touched on the loop while no analysis is in flight, and
by the one job in flight otherwise; frame notes that arrive meanwhile are buffered and replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signlink.check import sdp
from signlink.check.outcome import Outcome
from signlink.check.sender import SenderReport, TakesSenderReports, parse_report
from signlink.errors import BackendUnavailable, BadRequest
from signlink.quality.verdict import Verdict

log = logging.getLogger(__name__)

# No frame for this long after the first one: the browser is gone (ICE consent would take ~30 s).
STALL_S = 5.0
# Sender reports closer together than this are ignored (the page sends one a second).
SENDER_REPORT_GAP_S = 0.25
# How often the watch loop looks at the clock when nothing else happens.
WATCH_TICK_S = 0.5
_AIORTC_ERRORS = (ValueError, InternalError, InvalidAccessError, InvalidStateError, OperationError)


class NoCandidate(BackendUnavailable):
    """The answer would carry no usable ICE candidate: the browser could never send its video."""

    code = "no_ice_candidate"


def _gather_only_on(pc: RTCPeerConnection, addresses: tuple[str, ...]) -> None:
    """Make every ICE gatherer of `pc` bind only `addresses` (SIGNLINK_CHECK_ICE_ADDRESSES).

    aioice gathers on every interface address it finds (but loopback) and has no per-connection
    option, so its gather step is replaced on each connection object of this peer only: the same
    steps as aioice.Connection.gather_candidates (0.13), with our address list. Tested by
    tests/check/test_candidates_live.py (the answer names only the configured addresses).
    """
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        if id(connection) in seen:
            continue
        seen.add(id(connection))

        async def gather(connection: Any = connection) -> None:
            if connection._local_candidates_start:
                return
            connection._local_candidates_start = True
            found = await asyncio.gather(
                *(
                    connection.get_component_candidates(component=component, addresses=list(addresses))
                    for component in connection._components
                )
            )
            for candidates in found:
                connection._local_candidates += candidates
            connection._local_candidates_end = True

        connection.gather_candidates = gather  # type: ignore[method-assign]


def _candidate_count(sdp_text: str) -> int:
    return sum(1 for line in sdp_text.splitlines() if line.startswith("a=candidate:"))


class FrameAnalyser(Protocol):
    """What a check needs of signlink.quality.analyser.Analyser (one per stream, not thread-safe)."""

    def note_frame(self, timestamp_s: float, width: int, height: int) -> None: ...
    def due(self, timestamp_s: float) -> bool: ...
    def analyse(self, image_rgb: npt.NDArray[np.uint8], timestamp_s: float) -> None: ...
    def verdict(self) -> Verdict: ...
    def close(self) -> None: ...


class VerdictRecorder(Protocol):
    """Where final verdicts go (signlink.records.verdicts.VerdictStore)."""

    async def save(self, verdict: Verdict, *, check_id: str, duration_s: float, outcome: Outcome) -> str: ...


AnalyserFactory = Callable[[], FrameAnalyser]


class State(StrEnum):
    CONNECTING = "connecting"  # answered; no video frame yet
    ANALYSING = "analysing"
    FINISHING = "finishing"  # ended; closing and recording
    DONE = "done"


@dataclass(frozen=True)
class FinalVerdict:
    verdict: Verdict
    outcome: Outcome
    reason: str
    verdict_id: str | None  # None: the record could not be saved (Redis unreachable)
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def to_event(self) -> dict[str, object]:
        return {
            **self.verdict.to_dict(),
            "verdict_id": self.verdict_id,
            "passed": self.passed,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "elapsed_s": round(self.duration_s, 2),
        }


def _create(factory: AnalyserFactory) -> tuple[FrameAnalyser, Verdict]:
    analyser = factory()
    return analyser, analyser.verdict()


def _analyse(analyser: FrameAnalyser, frame: av.VideoFrame, timestamp_s: float) -> Verdict:
    # The RGB conversion is CPU work too: it runs here, in the worker, never on the loop.
    image = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)  # no copy: already uint8
    analyser.analyse(image, timestamp_s)
    return analyser.verdict()


class CheckSession:
    """One check. Built by CheckService: `open()` answers the offer, then `run()` until it ends."""

    def __init__(
        self,
        check_id: str,
        *,
        timeout_s: float,
        executor: Executor,
        recorder: VerdictRecorder,
        release: Callable[[str], None],
        end_on_pass: bool = True,
        no_media_s: float = 5.0,
        client: str = "",
        watch_of: str | None = None,
        on_verdict: Callable[[Verdict], None] | None = None,
    ) -> None:
        self.id = check_id
        # A waiting-room watch of the check `watch_of` (a verdict id): never ends on pass, never
        # recorded as a verdict; each analysed window goes to `on_verdict` (the latest state).
        self.watch_of = watch_of
        self._on_verdict = on_verdict
        self.client = client  # the address its POST came from (the per-address cap)
        self.no_media_s = no_media_s
        self.end_on_pass = end_on_pass
        self.timeout_s = timeout_s
        self._executor = executor
        self._recorder = recorder
        self._release = release
        self._loop = asyncio.get_running_loop()
        self.started_at = self._loop.time()
        self._pc: RTCPeerConnection | None = None
        self._analyser: FrameAnalyser | None = None
        self._track: asyncio.Future[MediaStreamTrack] = self._loop.create_future()
        self._job: asyncio.Future[Verdict] | None = None
        self._notes: list[tuple[float, int, int]] = []
        self._reports: list[SenderReport] = []  # arrived while an analysis was in flight
        self._stream_t: float | None = None  # the stream clock of the latest frame
        self._last_report_at = -SENDER_REPORT_GAP_S
        self.sender_reports = 0
        self.last_sender: SenderReport | None = None
        self._latest: Verdict | None = None
        self._passing: Verdict | None = None
        self._stopping = asyncio.Event()
        self._stop_reason: tuple[Outcome, str] | None = None
        self._first_frame_at: float | None = None
        self._last_frame_at = 0.0
        self.frames_received = 0
        self.frames_analysed = 0
        self.frames_dropped = 0  # arrived while this check's analysis was busy
        self.released = asyncio.Event()  # peer and analyser closed, slot free
        self.done = asyncio.Event()  # final verdict known
        self.final: FinalVerdict | None = None

    # -- negotiation ---------------------------------------------------------------------------

    async def open(
        self,
        offer: sdp.Offer,
        ice_servers: list[RTCIceServer],
        factory: AnalyserFactory,
        *,
        local: tuple[str, ...] = (),
    ) -> str:
        """Answer the offer (ICE gathering complete: no trickle); create the analyser meanwhile.

        `local`: the only addresses to gather on (empty: aioice's own list). NoCandidate when the
        answer would carry no candidate at all.
        """
        creating = self._loop.run_in_executor(self._executor, _create, factory)
        try:
            answer = await self._negotiate(offer, ice_servers, local)
        finally:
            self._analyser, self._latest = await creating
        return answer

    async def _negotiate(
        self, offer: sdp.Offer, ice_servers: list[RTCIceServer], local: tuple[str, ...]
    ) -> str:
        pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers))
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_connection_state)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
            for transceiver in pc.getTransceivers():
                # Receive video only: audio (and any other m-line) is answered inactive.
                transceiver.direction = "recvonly" if transceiver.mid == offer.video_mid else "inactive"
            if local:
                _gather_only_on(pc, local)
            await pc.setLocalDescription(await pc.createAnswer())
        except _AIORTC_ERRORS as exc:
            raise BadRequest(f"the offer was refused: {exc}", code="offer_rejected") from exc
        answer = pc.localDescription.sdp
        if _candidate_count(answer) == 0:
            where = ", ".join(local) if local else "any interface (loopback is skipped)"
            raise NoCandidate(
                f"the server has no usable network address for the video: no ICE candidate on {where}; "
                "see SIGNLINK_CHECK_ICE_ADDRESSES and SIGNLINK_STUN_URLS"
            )
        # A watch is capped low by its sender on purpose: no start/min bitrate hints for it.
        return sdp.tune_answer(answer) if self.watch_of is None else answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and not self._track.done():
            self._track.set_result(track)

    def _on_connection_state(self) -> None:
        state = self._pc.connectionState if self._pc else "closed"
        log.debug("check %s: connection %s", self.id, state)
        if state in ("failed", "closed"):
            if self._first_frame_at is None:
                self.stop(Outcome.NO_MEDIA, f"the connection {state} before any video arrived")
            self.stop(Outcome.ENDED_BY_CLIENT, f"the connection {state}")

    # -- the running check ---------------------------------------------------------------------

    @property
    def state(self) -> State:
        if self.final is not None:
            return State.DONE
        if self._stopping.is_set():
            return State.FINISHING
        return State.CONNECTING if self._first_frame_at is None else State.ANALYSING

    def remote_candidate_addresses(self) -> list[str]:
        """The addresses the server's ICE agent may send checks to (the screened offer's)."""
        if self._pc is None:
            return []
        return [
            candidate.ip
            for transceiver in self._pc.getTransceivers()
            for candidate in transceiver.receiver.transport.transport.getRemoteCandidates()
        ]

    def elapsed_s(self) -> float:
        return self._loop.time() - self.started_at

    def feedback(self) -> dict[str, object]:
        """The live state for the page: the latest verdict, the state, elapsed seconds, counters."""
        body: dict[str, object] = self._latest.to_dict() if self._latest else {}
        body.update(
            state=self.state.value,
            elapsed_s=round(self.elapsed_s(), 2),
            timeout_s=self.timeout_s,
            frames_received=self.frames_received,
            frames_analysed=self.frames_analysed,
            sender_reports=self.sender_reports,
        )
        return body

    def stop(self, outcome: Outcome, reason: str) -> None:
        """End the check (the first reason given wins); `run()` then closes and records."""
        if self._stop_reason is None:
            self._stop_reason = (outcome, reason)
            self._stopping.set()

    async def run(self) -> None:
        """Watch the check until it ends, then close everything and record the verdict."""
        consume = asyncio.create_task(self._consume(), name=f"check-{self.id}-frames")
        try:
            await self._watch()
        finally:
            consume.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consume
            verdict = await self._close()
        assert self._stop_reason is not None
        outcome, reason = self._stop_reason
        duration = self.elapsed_s()
        verdict_id: str | None = None
        if self.watch_of is not None:
            pass  # a watch only keeps the latest state (latest.py); the check's verdict stands
        elif self.frames_received == 0:
            # Nothing was seen: a verdict would blame a camera nobody looked at (and last 90 days).
            log.info("check %s: no frame received, no verdict recorded", self.id)
        else:
            try:
                verdict_id = await self._recorder.save(
                    verdict, check_id=self.id, duration_s=duration, outcome=outcome
                )
            except BackendUnavailable as exc:
                log.warning("check %s: verdict not recorded: %s", self.id, exc)
        self.final = FinalVerdict(verdict, outcome, reason, verdict_id, duration)
        self.done.set()
        log.info(
            "check %s ended after %.1f s: %s (%s); %d frames, %d analysed, %d dropped; verdict %s",
            self.id, duration, outcome.value, reason,
            self.frames_received, self.frames_analysed, self.frames_dropped, verdict_id,
        )  # fmt: skip

    async def _watch(self) -> None:
        deadline = self.started_at + self.timeout_s
        while not self._stopping.is_set():
            now = self._loop.time()
            if self._first_frame_at is None and now - self.started_at >= min(self.no_media_s, self.timeout_s):
                # The browser got our answer but no video came: ICE or DTLS failed. Free the slot soon.
                waited = now - self.started_at
                self.stop(Outcome.NO_MEDIA, f"no video arrived within {waited:.0f} s (a connection problem)")
                break
            if now >= deadline:
                self.stop(Outcome.TIMED_OUT, f"no passing verdict within {self.timeout_s:g} s")
                break
            if self._first_frame_at is not None and now - self._last_frame_at > STALL_S:
                self.stop(Outcome.ENDED_BY_CLIENT, f"no video for {STALL_S:g} s")
                break
            wake = min(deadline - now, WATCH_TICK_S)
            if self._first_frame_at is None:  # wake right at the no-media limit
                wake = min(wake, self.started_at + self.no_media_s - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, wake))

    async def _consume(self) -> None:
        track = await self._track
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                self.stop(Outcome.ENDED_BY_CLIENT, "the video track ended")
                return
            if isinstance(frame, av.VideoFrame):
                self._on_frame(frame)

    def _on_frame(self, frame: av.VideoFrame) -> None:
        timestamp = frame.time  # from the RTP timestamps: the sender's clock, not arrival
        if timestamp is None or self._stopping.is_set() or self._analyser is None:
            return
        now = self._loop.time()
        if self._first_frame_at is None:
            self._first_frame_at = now
            log.info(
                "check %s: first frame %dx%d after %.2f s",
                self.id, frame.width, frame.height, now - self.started_at,
            )  # fmt: skip
        self._last_frame_at = now
        self.frames_received += 1
        self._notes.append((timestamp, frame.width, frame.height))
        self._stream_t = timestamp
        if self._job is not None:
            self.frames_dropped += 1
            return
        analyser = self._analyser
        for note in self._notes:
            analyser.note_frame(*note)
        self._notes.clear()
        self._apply_reports(analyser)
        if analyser.due(timestamp):
            self._job = self._loop.run_in_executor(self._executor, _analyse, analyser, frame, timestamp)
            self._job.add_done_callback(self._on_analysed)

    def _on_analysed(self, job: asyncio.Future[Verdict]) -> None:
        self._job = None
        if job.cancelled():
            return
        exc = job.exception()
        if exc is not None:
            log.warning("check %s: analysis of a frame failed: %r", self.id, exc, exc_info=exc)
            return
        verdict = job.result()
        self._latest = verdict
        self.frames_analysed += 1
        if self._on_verdict is not None:
            self._on_verdict(verdict)
        if self.end_on_pass and verdict.complete and verdict.passed and self._passing is None:
            self._passing = verdict
            self.stop(Outcome.PASSED, "a complete passing verdict")

    # -- what the sender knows -------------------------------------------------------------------

    def add_sender_report(self, body: object) -> bool:
        """Take the page's report (validated here: BadRequest); False when ignored (too soon, ended)."""
        report = parse_report(body, self._stream_t if self._stream_t is not None else 0.0)
        now = self._loop.time()
        if self._stopping.is_set() or now - self._last_report_at < SENDER_REPORT_GAP_S:
            return False
        self._last_report_at = now
        self.sender_reports += 1
        self.last_sender = report
        self._reports.append(report)
        if self._job is None and self._analyser is not None:
            self._apply_reports(self._analyser)
        return True

    def _apply_reports(self, analyser: FrameAnalyser) -> None:
        # Only on the loop while no analysis is in flight (the analyser is not thread-safe).
        if isinstance(analyser, TakesSenderReports):
            for report in self._reports:
                analyser.add_sender_report(report)
        self._reports.clear()

    # -- the end -------------------------------------------------------------------------------

    async def _close(self) -> Verdict:
        """Wait for the analysis in flight, close analyser and peer, free the slot; the final verdict."""
        try:
            if self._job is not None:
                with contextlib.suppress(Exception):
                    await self._job
            verdict = self._passing or self._latest
            await self.abort()
        finally:
            self._release(self.id)
            self.released.set()
        assert verdict is not None  # open() set the analyser's first verdict
        return verdict

    async def abort(self) -> None:
        """Close the analyser and the peer connection (also for an offer that was refused)."""
        analyser, self._analyser = self._analyser, None
        pc, self._pc = self._pc, None
        try:
            if analyser is not None:
                await self._loop.run_in_executor(self._executor, analyser.close)
        finally:
            if pc is not None:
                await pc.close()
