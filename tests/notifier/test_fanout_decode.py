"""The envelope decoder's fast path (pydantic-core straight from bytes) gives what the dict
path gave, and every malformed record still gets a reason naming its fault."""

from __future__ import annotations

import json

import pytest

from baiying_shared.events import callouts
from baiying_shared.events.envelope import UndecodableEvent, decode, encode, wrap
from tests.notifier.harness import issued


def _issued() -> callouts.CalloutIssued:
    return issued(phone="+8613400000001")


def test_round_trip_gives_the_typed_payload() -> None:
    envelope = wrap(_issued(), producer="test")
    decoded = decode(encode(envelope))
    assert decoded == envelope
    assert type(decoded.payload) is callouts.CalloutIssued
    assert decoded.model_dump() == envelope.model_dump()


def _mutated(**changes: object) -> bytes:
    data = json.loads(encode(wrap(_issued(), producer="test")))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (_mutated(type="no.such.event"), "unknown event type/version"),
        (_mutated(schema_version="1"), "unknown event type/version"),  # "1" is not version 1
        (_mutated(payload={"rank": "x"}), "invalid callout"),
        (_mutated(surprise=1), "invalid callout"),  # the envelope forbids extra fields
        (_mutated(trace_id=None), "invalid callout"),
    ],
)
def test_malformed_records_name_their_fault(raw: bytes, reason: str) -> None:
    with pytest.raises(UndecodableEvent, match=reason):
        decode(raw)
