"""A NOTIFY for rows intake already handed to this sender (intake.hand_to) loads nothing:
during a fan-out every committed poll is announced, and reading its rows back a second time
was one full-row fetch per SMS. Seqs not queued here are still loaded."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from baiying_notifier import store
from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import Capabilities
from baiying_notifier.sender import Sender
from baiying_notifier.store import Queued


class _Gateway:
    capabilities = Capabilities(supports_status_callback=False, supports_lookup=False)


def _item(seq: int) -> Queued:
    row = {"id": uuid.uuid4(), "seq": seq, "priority": 50, "rank": seq, "attempts": 0}
    return Queued(row)


async def _loaded_after_notify(
    monkeypatch: pytest.MonkeyPatch, settings: NotifierSettings, *, filtered: bool
) -> list[list[int]]:
    asked: list[list[int]] = []

    async def load_by_seq(_pool: Any, seqs: list[int]) -> list[Queued]:
        asked.append(sorted(seqs))
        return []

    async def nothing(*_a: Any, **_k: Any) -> list[Queued]:
        return []

    monkeypatch.setattr(store, "load_by_seq", load_by_seq)
    monkeypatch.setattr(store, "load_pending", nothing)
    monkeypatch.setattr(store, "load_stale", nothing)
    sender = Sender(pool=object(), gateway=_Gateway(), settings=settings)  # type: ignore[arg-type]
    sender.push(_item(5))  # handed over by intake after its commit
    sender.push(_item(6))
    if not filtered:  # control: a sender that forgets what it queued loads them again
        sender._known_seqs.clear()
    sender.wake(None, 0, "ch", "5,6,7")  # the same commit's NOTIFY, plus a row of another's
    loader = asyncio.create_task(sender._load_forever())
    try:
        for _ in range(50):  # let the loader take its first turn (no timers involved)
            await asyncio.sleep(0)
            if asked:
                break
    finally:  # wait_for (3.11) may swallow a cancel that meets the wake event: insist
        while not loader.done():
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([loader], timeout=0.1)
    return asked


async def test_a_notify_for_rows_already_queued_loads_only_the_others(
    monkeypatch: pytest.MonkeyPatch, notifier_settings: Callable[..., NotifierSettings]
) -> None:
    assert await _loaded_after_notify(monkeypatch, notifier_settings(), filtered=True) == [[7]]


async def test_control_without_the_filter_loads_them_again(
    monkeypatch: pytest.MonkeyPatch, notifier_settings: Callable[..., NotifierSettings]
) -> None:
    got = await _loaded_after_notify(monkeypatch, notifier_settings(), filtered=False)
    assert got == [[5, 6, 7]]
