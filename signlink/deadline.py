"""Shutdown steps with a deadline: a step that hangs is logged with the stacks of every task and abandoned.

A process that is stopping must stop: a peer connection, a pub/sub connection or a worker that never
answers would otherwise keep it (and the balancer's drain, or a test's teardown) waiting for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Awaitable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

STEP_S = 5.0  # one shutdown step: closing a peer, a pub/sub connection, a pool
STACK_LINES = 12  # per task in the log of a step that hung
RECANCEL_S = 0.1  # a swallowed cancellation is repeated this often


async def bounded(what: str, step: Awaitable[T], seconds: float = STEP_S) -> T | None:
    """`await step`, or after `seconds` log what hung, cancel it and return None.

    Exceptions of the step propagate as if it had been awaited directly.
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    log.warning("shutdown step %r did not finish in %.1f s: abandoned\n%s", what, seconds, task_stacks())
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait({task}, timeout=1.0)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: an error after the deadline is not "never retrieved"
    return None


def task_stacks() -> str:
    """Every task of the running loop with where it waits (for the log of something that hung)."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is asyncio.current_task():
            continue
        print(f"- {task.get_name()}: {task.get_coro()!r}", file=out)
        task.print_stack(limit=STACK_LINES, file=out)
    return out.getvalue()


async def stop_task(task: asyncio.Task[object] | None, what: str, seconds: float = STEP_S) -> None:
    """Cancel `task` and wait until it has ended, for at most `seconds`.

    The cancellation is repeated: one that lands inside a redis-py command can be swallowed (the
    task's loop then goes on for ever, and a single cancel() plus await never returns).
    """
    if task is None or task.done():
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not task.done():
        if loop.time() >= deadline:
            log.warning("%s did not stop in %.1f s: abandoned\n%s", what, seconds, task_stacks())
            return
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_S)
    if not task.cancelled():
        task.exception()  # retrieved: how a stopped loop ended is not news
