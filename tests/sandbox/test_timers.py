"""The carrier's shared timer heap, on asyncio's loop and on uvloop's (what uvicorn runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import uvloop

from baiying_sandbox.timers import Timers


async def _order() -> tuple[list[str], list[str]]:
    loop, fired, reported = asyncio.get_running_loop(), list[str](), list[str]()
    loop.set_exception_handler(lambda _, context: reported.append(str(context.get("exception"))))
    done = loop.create_future()

    def fire(sid: str) -> None:
        fired.append(sid)
        if len(fired) == 4:
            done.set_result(None)
        if sid == "boom":
            raise RuntimeError("a failing wake-up")

    timers, now = Timers(fire), loop.time()
    timers.at(now + 0.06, "late")
    timers.at(now + 0.02, "early")  # earlier than the armed one: re-armed for it
    timers.at(now + 0.02, "boom")
    timers.at(now + 0.04, "middle")
    await asyncio.wait_for(done, 2)
    return fired, reported


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_wake_ups_fire_in_time_order_and_a_failure_strands_none(
    run: Callable[[Any], tuple[list[str], list[str]]],
) -> None:
    fired, reported = run(_order())
    assert fired == ["early", "boom", "middle", "late"]
    assert reported == ["a failing wake-up"], "the loop reports the failure; the rest still fire"
