"""The envelope every event travels in, and the registry that maps (type, version) to a model."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from baiying_shared.ids import new_id
from baiying_shared.logging import current_trace_id


class Payload(BaseModel):
    """Base of every event body: immutable and strict, so producers cannot drift silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


P = TypeVar("P", bound=Payload)

_REGISTRY: dict[tuple[str, int], type[Payload]] = {}


def event(event_type: str, version: int = 1) -> Any:
    """Class decorator: register a payload model under its wire type and version."""

    def register(cls: type[P]) -> type[P]:
        cls.event_type = event_type
        cls.schema_version = version
        key = (event_type, version)
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise RuntimeError(f"event {key} registered twice")
        _REGISTRY[key] = cls
        return cls

    return register


class Envelope(BaseModel, Generic[P]):
    """Metadata shared by all events; `payload` is the typed body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(default_factory=new_id)
    type: str
    schema_version: int
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    trace_id: str
    payload: SerializeAsAny[P]


class UndecodableEvent(Exception):
    """The bytes are not a known, valid event; the reason goes to the dead-letter topic."""


def wrap(payload: P, *, producer: str, trace_id: str | None = None) -> Envelope[P]:
    """Put a payload in a fresh envelope, carrying the current request's or event's trace id."""
    # Envelope[P] with a TypeVar is plain Envelope at runtime, but the subscript costs ~3 us a
    # call (pydantic's generic lookup) on every event the services publish.
    return Envelope(
        type=payload.event_type,
        schema_version=payload.schema_version,
        producer=producer,
        trace_id=trace_id or current_trace_id() or uuid.uuid4().hex,
        payload=payload,
    )


def encode(envelope: Envelope[Any]) -> bytes:
    """Wire form: compact UTF-8 JSON."""
    return envelope.model_dump_json().encode()


class _Head(BaseModel):
    """The two fields that pick the payload model; the rest of the record is skipped here."""

    model_config = ConfigDict(strict=True)  # "1" is not version 1, as in the registry's key
    type: str
    schema_version: int


@cache
def _typed(model: type[Payload]) -> type[Envelope[Any]]:
    # Built once per payload model (pydantic's own generic cache is a keyed lookup per call).
    return Envelope[model]  # type: ignore[valid-type]


def decode(raw: bytes) -> Envelope[Payload]:
    """Parse and validate; raise UndecodableEvent naming what is wrong.

    The happy path reads the bytes twice in pydantic-core (the head, then the envelope of
    the right payload model, straight from JSON): about 6 us a record against 14 us for
    json.loads plus two dict validations. Anything the head cannot read takes the slow
    path, which names the fault.
    """
    try:
        head = _Head.model_validate_json(raw)
    except ValidationError:
        return _decode_slowly(raw)
    model = _REGISTRY.get((head.type, head.schema_version))
    if model is None:
        raise UndecodableEvent(f"unknown event type/version {(head.type, head.schema_version)}")
    try:
        return _typed(model).model_validate_json(raw)
    except ValidationError as exc:
        raise UndecodableEvent(
            f"invalid {head.type} v{head.schema_version}: {exc.errors()[:3]}"
        ) from exc


def _decode_slowly(raw: bytes) -> Envelope[Payload]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UndecodableEvent("event is not a JSON object")
    key = (data.get("type"), data.get("schema_version"))
    model = _REGISTRY.get(key)  # type: ignore[arg-type]
    if model is None:
        raise UndecodableEvent(f"unknown event type/version {key}")
    try:
        payload = model.model_validate(data.get("payload"))
        return Envelope[Payload].model_validate({**data, "payload": payload})
    except ValidationError as exc:
        raise UndecodableEvent(f"invalid {key[0]} v{key[1]}: {exc.errors()[:3]}") from exc
