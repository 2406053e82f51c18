"""Delivery-status order and finality live in baiying_shared.events.deliveries alone."""

from __future__ import annotations

import re
from importlib import resources
from typing import get_args

from baiying_shared.events.deliveries import (
    FAILED_STATUSES,
    FINAL_STATUSES,
    STATUS_RANK,
    DeliveryStatus,
    is_ahead,
    is_final,
)


def test_statuses_only_move_forward() -> None:
    assert is_ahead("queued", None) and is_ahead("sent", "queued")
    assert is_ahead("delivered", "sent") and is_ahead("failed", "delivered")
    assert not is_ahead("sent", "delivered")  # a late "sent" never overwrites "delivered"
    assert not is_ahead("failed", "undelivered") and not is_ahead("sent", "sent")
    assert not is_ahead("accepted", None)  # not a status we report


def test_final_and_failed_statuses() -> None:
    assert [s for s in STATUS_RANK if is_final(s)] == ["delivered", "undelivered", "failed"]
    assert not is_final(None) and not is_final("sent")
    assert FAILED_STATUSES < set(FINAL_STATUSES)
    assert set(STATUS_RANK) == set(get_args(DeliveryStatus))


def test_the_sweep_index_lists_the_final_statuses() -> None:
    sql = (resources.files("baiying_notifier") / "migrations" / "0002_status_sweep.sql").read_text()
    listed = re.search(r"status NOT IN \(([^)]*)\)", sql)
    assert listed is not None
    assert tuple(re.findall(r"'(\w+)'", listed.group(1))) == FINAL_STATUSES
