"""No sticky routing: any process answers for any live check by reaching, over Redis, the one holding it.

Only the POST creates a peer, in the process it lands on; that process records itself as the check's
owner (`CheckKeys.owner`). A request for a check another process holds (its events, DELETE, a
sender report) is forwarded on the owner's request channel; the owner answers on the asker's reply
channel, tagged with the request id. Each process keeps one pub/sub connection for both channels.

A dead owner shows as silence: no answer within FORWARD_TIMEOUT_S is `check_lost` (503), and a
forwarded events stream that hears nothing for STREAM_SILENCE_S ends with an `error` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from signlink.check.keys import CheckKeys
from signlink.check.service import LINGER_S, CheckService
from signlink.check.session import CheckSession
from signlink.errors import BackendUnavailable, BadRequest, NotFound, SignlinkError

log = logging.getLogger(__name__)

FORWARD_TIMEOUT_S = 1.0  # the owner's first answer; beyond it the owner is taken for dead
DELETE_TIMEOUT_S = 3.0  # DELETE waits for the owner's peer to close
STREAM_SILENCE_S = 1.0  # an events stream carries feedback every 0.25 s: silence means the owner died
FEEDBACK_INTERVAL_S = 0.25
_OWNER_MARGIN_S = 60.0


class CheckLost(BackendUnavailable):
    """The process that held the check does not answer (it stopped or crashed)."""

    code = "check_lost"


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


class CheckRelay:
    """This process's end of the relay: claims the checks it holds, forwards requests for the others."""

    def __init__(self, redis: Redis, keys: CheckKeys, service: CheckService) -> None:
        self.process_id = secrets.token_hex(8)
        self._redis = redis
        self._keys = keys
        self._service = service
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(
            self._keys.requests(self.process_id), self._keys.replies(self.process_id)
        )
        self._reader = asyncio.create_task(self._read(), name="check-relay")

    async def close(self) -> None:
        for task in [*self._tasks, *([self._reader] if self._reader else [])]:
            task.cancel()
        for task in [*self._tasks, *([self._reader] if self._reader else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- the owner's side ----------------------------------------------------------------------

    async def claim(self, session: CheckSession) -> None:
        """Say that this process holds `session` (until it ends and is forgotten)."""
        ttl = int(session.timeout_s + LINGER_S + _OWNER_MARGIN_S)
        try:
            await self._redis.set(self._keys.owner(session.id), self.process_id, ex=ttl)
        except (RedisError, OSError) as exc:  # the check still works through this process
            log.warning("check %s: owner not recorded (other processes cannot reach it): %s", session.id, exc)

    async def _read(self) -> None:
        assert self._pubsub is not None
        requests = self._keys.requests(self.process_id)
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as exc:
                log.warning("check relay: %s; resubscribing", exc)
                await asyncio.sleep(1.0)
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.subscribe(requests, self._keys.replies(self.process_id))
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                body = json.loads(message["data"])
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
            except (ValueError, UnicodeDecodeError):
                log.warning("check relay: a message that is not JSON was dropped")
                continue
            if channel == requests:
                task = asyncio.create_task(self._serve(body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                queue = self._waiting.get(str(body.get("rid")))
                if queue is not None:
                    queue.put_nowait(body)

    async def _reply(self, request: dict[str, Any], body: dict[str, Any]) -> int:
        channel = self._keys.replies(str(request["from"]))
        return int(await self._redis.publish(channel, _dumps({"rid": request["rid"], **body})))

    async def _serve(self, request: dict[str, Any]) -> None:
        """Answer one forwarded request for a check this process holds."""
        op, check_id = request.get("op"), str(request.get("check"))
        try:
            if op == "events":
                await self._stream(request, self._service.get(check_id))
            elif op == "delete":
                await self._service.end(check_id)
                await self._reply(request, {"status": 204})
            elif op == "sender":
                self._service.get(check_id).add_sender_report(request.get("body"))
                await self._reply(request, {"status": 204})
            else:
                log.warning("check relay: unknown op %r", op)
        except NotFound as exc:
            await self._reply(request, {"status": 404, "error": exc.code, "message": str(exc)})
        except BadRequest as exc:
            await self._reply(request, {"status": exc.status, "error": exc.code, "message": str(exc)})
        except (RedisError, OSError) as exc:
            log.warning("check relay: cannot answer %s for %s: %s", op, check_id, exc)

    async def _stream(self, request: dict[str, Any], session: CheckSession) -> None:
        # The asker unsubscribes when its client goes away: PUBLISH then reaches nobody and we stop.
        while session.final is None:
            if await self._reply(request, {"event": "feedback", "data": session.feedback()}) == 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.done.wait(), FEEDBACK_INTERVAL_S)
        await self._reply(request, {"event": "verdict", "data": session.final.to_event(), "end": True})

    # -- the asker's side ----------------------------------------------------------------------

    async def _owner(self, check_id: str) -> str:
        try:
            owner = await self._redis.get(self._keys.owner(check_id))
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"cannot find the video check: {exc}") from exc
        owner_id = owner.decode() if isinstance(owner, bytes) else owner
        if owner_id is None or owner_id == self.process_id:
            raise NotFound(f"no video check {check_id!r} (unknown or long finished)")
        return str(owner_id)

    @contextlib.asynccontextmanager
    async def _ask(self, check_id: str, op: str, **extra: Any) -> AsyncIterator[Callable[[float], Any]]:
        owner = await self._owner(check_id)
        rid = secrets.token_hex(8)
        log.info("check %s: %s forwarded to process %s", check_id, op, owner)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._waiting[rid] = queue
        try:
            request = {"op": op, "check": check_id, "rid": rid, "from": self.process_id, **extra}
            try:
                reached = await self._redis.publish(self._keys.requests(owner), _dumps(request))
            except (RedisError, OSError) as exc:
                raise BackendUnavailable(f"cannot reach the video check: {exc}") from exc
            if reached == 0:
                raise CheckLost("the server holding this video check has stopped; start a new check")

            async def next_reply(timeout_s: float) -> dict[str, Any]:
                try:
                    return await asyncio.wait_for(queue.get(), timeout_s)
                except TimeoutError:
                    raise CheckLost("the server holding this video check does not answer") from None

            yield next_reply
        finally:
            del self._waiting[rid]

    @staticmethod
    def _raise(reply: dict[str, Any]) -> None:
        status = int(reply.get("status", 500))
        if status == 404:
            raise NotFound(str(reply.get("message", "no such video check")))
        if 400 <= status < 500:
            raise BadRequest(
                str(reply.get("message", "refused")), status=status, code=str(reply.get("error"))
            )
        if status >= 300:
            raise SignlinkError(str(reply.get("message", "failed")))

    async def delete(self, check_id: str) -> None:
        async with self._ask(check_id, "delete") as next_reply:
            self._raise(await next_reply(DELETE_TIMEOUT_S))

    async def sender_report(self, check_id: str, body: object) -> None:
        async with self._ask(check_id, "sender", body=body) as next_reply:
            self._raise(await next_reply(FORWARD_TIMEOUT_S))

    async def events(self, check_id: str) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """The owner's events for the check: (name, data) until `verdict`; CheckLost when it falls silent."""
        async with self._ask(check_id, "events") as next_reply:
            reply = await next_reply(FORWARD_TIMEOUT_S)  # NotFound / CheckLost before any event
            while True:
                if "event" not in reply:
                    self._raise(reply)
                    return
                yield str(reply["event"]), dict(reply["data"])
                if reply.get("end"):
                    return
                reply = await next_reply(STREAM_SILENCE_S)
