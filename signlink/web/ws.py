"""GET /ws: the call's one WebSocket endpoint (docs/protocol.md, "WebSocket /ws").

This handler owns the socket's life: upgrade, hello within the time limit, then one message at a time
(rate limit, parse, role check) into the call service; every error becomes an `error` message or a
close code here. The service and its background pushes are started and stopped with the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web

from signlink.errors import Forbidden, SignlinkError
from signlink.queue.call_events import CallEventLog
from signlink.records.quality import QualitySample, Side
from signlink.records.sessions import SessionRecords
from signlink.signaling import protocol as p
from signlink.signaling.calls import CallService
from signlink.signaling.connection import Connection
from signlink.signaling.outgoing import Error
from signlink.signaling.pushes import Pushes
from signlink.web import keys
from signlink.web.auth import AUTH, check_origin

log = logging.getLogger(__name__)

SERVER_PING_S = 20.0  # aiohttp's protocol-level ping; a client that stops answering is closed
_TYPE_NAMES = {
    p.Hello: "hello",
    p.Ping: "ping",
    p.SetStatus: "status",
    p.Accept: "accept",
    p.Decline: "decline",
    p.Signal: "signal",
    p.Chat: "chat",
    p.ChatAck: "chat_ack",
    p.End: "end",
    p.WrapUp: "wrap_up",
    p.Transfer: "transfer",
    p.Note: "note",
    p.Leave: "leave",
    p.Stats: "stats",
}


async def calls_ctx(app: web.Application) -> AsyncIterator[None]:
    """The call service of this process, its bus and its background pushes."""
    settings = app[keys.SETTINGS]
    records = SessionRecords(app[keys.REDIS], app[keys.QUEUE].keys, settings.record_retention_days * 86400)
    service = CallService(
        settings,
        redis=app[keys.REDIS],
        queue=app[keys.QUEUE],
        verdicts=app[keys.VERDICTS],
        records=records,
        accounts=app[keys.ACCOUNTS],
        latest=app.get(keys.LATEST_CHECKS),
    )
    pushes = Pushes(service)
    await service.hub.start()
    await pushes.start()
    app[keys.SESSIONS] = records
    app[keys.CALLS] = service
    yield
    await pushes.stop()
    await service.hub.close_all(p.CloseCode.GOING_AWAY, "server shutting down")
    await service.hub.close()


async def close_calls_on_shutdown(app: web.Application) -> None:
    # Before aiohttp waits for open handlers: every socket is told to reconnect (to any process).
    if keys.CALLS in app:
        await app[keys.CALLS].hub.close_all(p.CloseCode.GOING_AWAY, "server shutting down")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[keys.SETTINGS]
    service = request.app[keys.CALLS]
    ws = web.WebSocketResponse(heartbeat=SERVER_PING_S, max_msg_size=settings.ws_max_message_bytes)
    await ws.prepare(request)
    conn = service.open(ws)
    try:
        if await _hello(request, service, conn):
            await _serve(service, conn, request.app[keys.SESSIONS].events)
    finally:
        await service.closed(conn)
        await conn.stop_writer()
        conn.finished.set()
    return ws


async def _refuse(conn: Connection, exc: p.ProtocolError) -> None:
    conn.start(Error(exc.code, str(exc), exc.ref))
    await conn.close(exc.close or p.CloseCode.BAD_HELLO, exc.code)


async def _hello(request: web.Request, service: CallService, conn: Connection) -> bool:
    """Read and act on the hello; False if the connection was closed instead."""
    timeout = request.app[keys.SETTINGS].ws_hello_timeout_s
    try:
        msg = await conn.ws.receive(timeout=timeout)
    except TimeoutError:
        await _refuse(conn, p.ProtocolError("no_hello", "say hello first", close=p.CloseCode.UNAUTHENTICATED))
        return False
    if msg.type is not WSMsgType.TEXT:
        if msg.type is WSMsgType.BINARY:
            await _refuse(conn, p.ProtocolError("binary", "messages are JSON text frames"))
        return False
    try:
        hello = p.parse(msg.data)
        if not isinstance(hello, p.Hello):
            raise p.ProtocolError(
                "no_hello", "the first message must be hello", close=p.CloseCode.UNAUTHENTICATED
            )
        auth = request.get(AUTH)
        if hello.role is p.Role.AGENT:
            try:
                check_origin(request)
            except Forbidden as exc:
                raise p.ProtocolError("forbidden", str(exc), close=p.CloseCode.FORBIDDEN) from None
        await service.hello(conn, hello, auth.account if auth else None, auth.session.id if auth else "")
    except p.ProtocolError as exc:
        if exc.close is None:
            exc.close = p.CloseCode.BAD_HELLO
        await _refuse(conn, exc)
        return False
    except SignlinkError as exc:
        log.warning("hello failed: %s", exc)
        await _refuse(conn, p.ProtocolError(exc.code, str(exc), close=p.CloseCode.GOING_AWAY))
        return False
    return not conn.closing


async def _serve(service: CallService, conn: Connection, records: CallEventLog) -> None:
    settings = service.settings
    while True:
        msg = await conn.ws.receive()
        if msg.type is WSMsgType.TEXT:
            if not conn.bucket.take():
                conn.strikes += 1
                if conn.strikes == 1:
                    conn.send(Error("rate_limited", "too many messages: slow down"))
                if conn.strikes > settings.ws_rate_burst:
                    log.warning("%r kept exceeding the rate limit: closing it", conn)
                    await conn.close(p.CloseCode.POLICY, "rate limit")
                    return
                continue
            conn.strikes = 0
            await _one(service, conn, msg.data, records)
        elif msg.type is WSMsgType.BINARY:
            conn.send(Error("binary", "messages are JSON text frames"))
        else:  # CLOSE, CLOSING, CLOSED, ERROR (e.g. a frame over the size limit: aiohttp closes 1009)
            return
        if conn.closing:
            return


async def _one(service: CallService, conn: Connection, text: str, records: CallEventLog) -> None:
    assert conn.role is not None
    ref = None
    try:
        message = p.parse(text)
        ref = _TYPE_NAMES[type(message)]
        if not p.allowed(conn.role, message):
            raise p.ProtocolError("not_allowed", f"a {conn.role.value} cannot send {ref}")
        if isinstance(message, p.Stats):
            await _stats(records, conn, message)
        else:
            await service.handle(conn, message)
    except p.ProtocolError as exc:
        conn.send(Error(exc.code, str(exc), exc.ref or ref))
        if exc.close is not None:
            await conn.close(exc.close, exc.code)
    except SignlinkError as exc:
        conn.send(Error(exc.code, str(exc), ref))
    except Exception:
        # A bug must not end the call: the socket and the session stay; the message is lost.
        log.exception("%r: %s failed", conn, ref or "a message")
        conn.send(Error("internal", "the server failed on this message", ref))


async def _stats(records: CallEventLog, conn: Connection, message: p.Stats) -> None:
    """A call-quality sample from either side of a call, kept with the session (never answered)."""
    if conn.call is None:
        raise p.ProtocolError("no_session", "you are not in a call")
    if message.session_id is not None and message.session_id != conn.call.session_id:
        raise p.ProtocolError("wrong_session", "that is not your session: nothing was stored")
    assert conn.role is not None
    sample = QualitySample(
        at=time.time(),
        side=Side.AGENT if conn.role is p.Role.AGENT else Side.CUSTOMER,
        rtt_ms=message.rtt_ms,
        packet_loss=message.packet_loss,
        jitter_ms=message.jitter_ms,
        jitter_buffer_ms=message.jitter_buffer_ms,
        fps=message.fps,
        width=message.width,
        height=message.height,
        freezes=message.freezes,
    )
    await records.quality_sample(conn.call.session_id, sample.at, sample.side.value, sample.to_dict())
