"""Shutdown steps end: a hung step is abandoned and logged; a swallowed cancellation is repeated."""

from __future__ import annotations

import asyncio
import logging

import pytest

from signlink.deadline import bounded, stop_task


async def test_a_step_that_finishes_returns_its_result() -> None:
    async def step() -> int:
        await asyncio.sleep(0)
        return 7

    assert await bounded("quick", step(), seconds=1.0) == 7


async def test_a_step_that_fails_raises_as_if_awaited() -> None:
    async def step() -> None:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        await bounded("failing", step(), seconds=1.0)


async def test_a_hung_step_is_abandoned_and_the_log_says_where_it_waits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = asyncio.Event()

    async def waits_for_ever() -> int:
        await never.wait()
        return 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="signlink.deadline"):
        assert await bounded("close the thing", waits_for_ever(), seconds=0.2) is None
    assert loop.time() - started < 2.0
    text = caplog.text
    assert "close the thing" in text and "did not finish" in text
    assert "waits_for_ever" in text  # the stack of the hung step


async def test_a_task_that_swallows_one_cancellation_is_still_stopped() -> None:
    swallowed = 0

    async def stubborn() -> None:
        # What redis-py can do: a CancelledError caught inside a command, and the loop goes on.
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed >= 3:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await stop_task(task, "stubborn loop", seconds=5.0)
    assert task.cancelled() and swallowed == 3


async def test_a_task_that_never_stops_is_abandoned_in_time(caplog: pytest.LogCaptureFixture) -> None:
    stop = False

    async def immortal() -> None:
        while not stop:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(immortal())
    await asyncio.sleep(0)
    try:
        with caplog.at_level(logging.WARNING, logger="signlink.deadline"):
            await stop_task(task, "the immortal loop", seconds=0.3)
        assert not task.done()
        assert "the immortal loop did not stop" in caplog.text
    finally:
        stop = True  # else the test's event loop could never close
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    assert task.done()


async def test_stopping_nothing_or_a_finished_task_is_a_no_op() -> None:
    await stop_task(None, "nothing")
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await stop_task(task, "finished")
