"""Every live check of this process: the concurrency limit, the shared analysis pool, shutdown.

A check lives in the process that took its POST (its peer connection is here); records of its
verdict go to Redis, shared by every process. Finished checks stay readable for LINGER_S so a late
or reconnecting events stream still gets the final verdict.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ipaddress
import logging
import math
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import aioice.ice
from aiortc import RTCIceServer

from signlink import modelfiles
from signlink.check import candidates, sdp
from signlink.check.latest import LatestStates
from signlink.check.outcome import Outcome
from signlink.check.session import AnalyserFactory, CheckSession, VerdictRecorder
from signlink.config import Settings
from signlink.errors import ConfigError, NotFound, Overloaded
from signlink.quality.verdict import Verdict

log = logging.getLogger(__name__)

LINGER_S = 120.0
# Analysis workers shared by all checks of the process: one per core. Measured on the 2-core machine:
# one analysis is ~20 ms on one core with the GIL released (2 threads: 1.75 cores, 90 analyses/s);
# more threads than cores only add latency to every check (benchmarks/quality_live.py).
ANALYSIS_WORKERS = max(1, len(os.sched_getaffinity(0)))


def analyser_factory(settings: Settings, *, watch: bool = False) -> AnalyserFactory:
    """The real analyser (verifies the model files first: refuses to start without them).

    `watch`: the waiting room's low-rate watch (a longer window, far fewer analysed frames).
    """
    from signlink.quality.analyser import Analyser

    hand, face = modelfiles.verify(settings.model_dir)
    return functools.partial(
        Analyser,
        hand,
        face,
        window_s=settings.check_watch_window_s if watch else settings.check_window_s,
        analysis_fps=settings.check_watch_analysis_fps if watch else settings.check_analysis_fps,
    )


def ice_servers(settings: Settings) -> list[RTCIceServer]:
    # Never None: aiortc would then ask a public STUN server of its own choosing.
    return [RTCIceServer(urls=list(settings.stun_urls))] if settings.stun_urls else []


class CheckService:
    """Starts, finds and ends the live checks of this process."""

    def __init__(
        self,
        *,
        max_concurrent: int,
        timeout_s: float,
        ice_servers: list[RTCIceServer],
        analyser_factory: AnalyserFactory,
        recorder: VerdictRecorder,
        workers: int = ANALYSIS_WORKERS,
        max_candidates: int = 20,
        remote_networks: tuple[str, ...] = candidates.DEFAULT_NETWORKS,
        ice_addresses: tuple[str, ...] = (),
        max_per_address: int = 2,
        no_media_s: float = 5.0,
        watch_factory: AnalyserFactory | None = None,
        latest: LatestStates | None = None,
        watch_max_concurrent: int = 20,
        watch_max_s: float = 1800.0,
    ) -> None:
        self._watch_factory = watch_factory or analyser_factory
        self._latest_states = latest
        self.watch_max_concurrent = watch_max_concurrent
        self.watch_max_s = watch_max_s
        self._saving: set[asyncio.Task[object]] = set()
        self.max_per_address = max_per_address
        self.no_media_s = no_media_s
        self.max_concurrent = max_concurrent
        self.max_candidates = max_candidates
        self._remote_networks = remote_networks
        candidates.AddressPolicy.parse(remote_networks)  # ValueError now, not at the first offer
        self._ice_addresses = ice_addresses
        self.timeout_s = timeout_s
        self._ice_servers = ice_servers
        self._factory = analyser_factory
        self._recorder = recorder
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="check-analysis")
        self._live: dict[str, CheckSession] = {}
        self._finished: dict[str, tuple[float, CheckSession]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        # Benchmarks turn this off to keep good-video checks analysing (sustained load).
        self.end_on_pass = True

    @classmethod
    def from_settings(
        cls, settings: Settings, recorder: VerdictRecorder, latest: LatestStates | None = None
    ) -> CheckService:
        for address in settings.check_ice_addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError as exc:
                raise ConfigError(f"SIGNLINK_CHECK_ICE_ADDRESSES: {exc}") from exc
        try:
            candidates.AddressPolicy.parse(settings.check_remote_networks)
        except ValueError as exc:
            raise ConfigError(f"SIGNLINK_CHECK_REMOTE_NETWORKS: {exc}") from exc
        return cls(
            max_concurrent=settings.check_max_concurrent,
            timeout_s=settings.check_timeout_s,
            ice_servers=ice_servers(settings),
            analyser_factory=analyser_factory(settings),
            recorder=recorder,
            workers=ANALYSIS_WORKERS,
            max_candidates=settings.check_max_candidates,
            remote_networks=settings.check_remote_networks,
            ice_addresses=settings.check_ice_addresses,
            max_per_address=settings.check_max_per_address,
            no_media_s=settings.check_no_media_s,
            watch_factory=analyser_factory(settings, watch=True),
            latest=latest,
            watch_max_concurrent=settings.check_watch_max_concurrent,
            watch_max_s=settings.check_watch_max_s,
        )

    @property
    def live_count(self) -> int:
        """Checks holding a slot (their peer connection or analyser not yet closed); watches too."""
        return len(self._live)

    @property
    def watch_count(self) -> int:
        return sum(1 for s in self._live.values() if s.watch_of is not None)

    def _note_latest(self, verdict_id: str, verdict: Verdict) -> None:
        if self._latest_states is None:
            return
        task: asyncio.Task[object] = asyncio.create_task(self._latest_states.save(verdict_id, verdict))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)

    def _retry_after_s(self, client: str | None = None) -> int:
        # The oldest live check (of this client) frees its slot by its timeout at the latest.
        now = asyncio.get_running_loop().time()
        live = [s for s in self._live.values() if client is None or s.client == client]
        oldest = min((s.started_at for s in live), default=now)
        return max(1, math.ceil(oldest + self.timeout_s - now))

    def local_addresses(self) -> list[str]:
        """Where the check's peer gathers: the configured addresses, else aioice's own list."""
        if self._ice_addresses:
            return list(self._ice_addresses)
        return list(aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True))

    def screen(self, offer: sdp.Offer, local: list[str]) -> sdp.Offer:
        """The offer with only the candidates the address policy allows (BadRequest for nonsense)."""
        loopback = any(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in local)
        policy = candidates.AddressPolicy.parse(self._remote_networks, allow_loopback=loopback)
        screened = candidates.screen(offer.sdp, policy, self.max_candidates)
        return dataclasses.replace(offer, sdp=screened.sdp)

    async def start(
        self, offer: sdp.Offer, *, client: str = "", watch: str | None = None
    ) -> tuple[CheckSession, str]:
        """Take a slot, answer the offer and start the check; returns the session and the SDP answer.

        `client`: the address the offer came from; at most `max_per_address` live checks each (429).
        `watch`: a verdict id: a waiting-room watch of that check (its own limit, no verdict record).
        """
        local = self.local_addresses()
        offer = self.screen(offer, local)
        self._purge()
        if self._closing:
            raise Overloaded("the server is shutting down", retry_after_s=5)
        if watch is not None:
            return await self._start_watch(offer, client, watch)
        if len(self._live) - self.watch_count >= self.max_concurrent:
            raise Overloaded(
                f"{self.max_concurrent} video checks are running on this server; try again shortly",
                retry_after_s=self._retry_after_s(),
            )
        checks = [s for s in self._live.values() if s.watch_of is None]
        if client and sum(1 for s in checks if s.client == client) >= self.max_per_address:
            raise Overloaded(
                f"{self.max_per_address} video checks from your address are already running; end one first",
                retry_after_s=self._retry_after_s(client),
                status=429,
            )
        session = CheckSession(
            secrets.token_urlsafe(16),
            timeout_s=self.timeout_s,
            executor=self._executor,
            recorder=self._recorder,
            release=self._release,
            end_on_pass=self.end_on_pass,
            no_media_s=self.no_media_s,
            client=client,
        )
        return await self._open(session, offer, self._factory)

    async def _start_watch(self, offer: sdp.Offer, client: str, verdict_id: str) -> tuple[CheckSession, str]:
        if any(s.watch_of == verdict_id for s in self._live.values()):
            raise Overloaded(
                "this check is already watched (close the other page)", retry_after_s=5, status=429
            )
        if self.watch_count >= self.watch_max_concurrent:
            raise Overloaded(
                f"{self.watch_max_concurrent} waiting-room video watches are running on this server",
                retry_after_s=60,
            )
        session = CheckSession(
            secrets.token_urlsafe(16),
            timeout_s=self.watch_max_s,
            executor=self._executor,
            recorder=self._recorder,
            release=self._release,
            end_on_pass=False,
            no_media_s=self.no_media_s,
            client=client,
            watch_of=verdict_id,
            on_verdict=functools.partial(self._note_latest, verdict_id),
        )
        return await self._open(session, offer, self._watch_factory)

    async def _open(
        self, session: CheckSession, offer: sdp.Offer, factory: AnalyserFactory
    ) -> tuple[CheckSession, str]:
        check_id = session.id
        self._live[check_id] = session  # the slot is taken before the first await
        try:
            answer = await session.open(offer, self._ice_servers, factory, local=self._ice_addresses)
            if self._closing:  # shutdown began while we negotiated: it will not wait for this one
                raise Overloaded("the server is shutting down", retry_after_s=5)
        except BaseException:
            self._live.pop(check_id, None)
            await session.abort()
            raise
        task = asyncio.create_task(self._run(session), name=f"check-{check_id}")
        self._tasks[check_id] = task
        log.info("check %s: started (%d live)", check_id, len(self._live))
        return session, answer

    async def _run(self, session: CheckSession) -> None:
        try:
            await session.run()
        except Exception:
            log.exception("check %s: failed", session.id)
        finally:
            self._release(session.id)
            self._tasks.pop(session.id, None)

    def _release(self, check_id: str) -> None:
        session = self._live.pop(check_id, None)
        if session is not None:
            self._finished[check_id] = (asyncio.get_running_loop().time(), session)

    def _purge(self) -> None:
        cutoff = asyncio.get_running_loop().time() - LINGER_S
        for check_id in [k for k, (at, _) in self._finished.items() if at < cutoff]:
            del self._finished[check_id]

    def get(self, check_id: str) -> CheckSession:
        self._purge()
        session = self._live.get(check_id)
        if session is None and check_id in self._finished:
            session = self._finished[check_id][1]
        if session is None:
            raise NotFound(f"no video check {check_id!r} (unknown or long finished)")
        return session

    async def end(self, check_id: str) -> None:
        """WHIP teardown (DELETE): end the check and wait until its peer is closed and its slot free."""
        session = self.get(check_id)
        session.stop(Outcome.ENDED_BY_CLIENT, "the client ended the check (DELETE)")
        await session.released.wait()

    async def shutdown(self) -> None:
        """End every live check (outcome interrupted) and wait for them: pages get their verdict."""
        self._closing = True
        for session in list(self._live.values()):
            session.stop(Outcome.INTERRUPTED, "the server is shutting down")
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.shutdown()
        # Off the loop: an analysis may still be finishing in a worker.
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
