"""POST /v1/volunteers/import: a CSV upload, size-limited, parsed off the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from baiying_registry.csvrows import COLUMNS_DOC, CsvParser, MalformedCsv, decode_upload, iter_lines
from baiying_registry.deps import Db, Settings
from baiying_registry.importer import import_stream
from baiying_registry.schemas import ImportReport
from baiying_shared.auth import AdminPrincipal
from baiying_shared.errors import TooLarge
from baiying_shared.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/v1/volunteers", tags=["import"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}, "example": (
            "name,phone,team_id,lat,lon,skills\n"
            "刘海燕,+8613812345678,<team uuid>,25.81,114.93,first_aid\n")}},
    }
}
_RESPONSES: dict[int | str, dict[str, str]] = {
    413: {"description": "the upload is larger than BAIYING_IMPORT_MAX_BYTES"},
    422: {"description": "malformed CSV (encoding, quoting, header) — the reason is given"},
}


@router.post(
    "/import", response_model=ImportReport, openapi_extra=_BODY, responses=_RESPONSES,
    description=f"Send the file as the raw body (Content-Type: text/csv), e.g. "
    f"`curl --data-binary @people.csv -H 'Content-Type: text/csv'`.\n\n{COLUMNS_DOC}",
)
async def import_volunteers(
    request: Request, principal: AdminPrincipal, db: Db, settings: Settings
) -> ImportReport | JSONResponse:
    """Upsert volunteers from a CSV by phone (admins)."""
    data = await _read_limited(request, settings.import_max_bytes)
    try:
        parser = CsvParser(iter_lines(decode_upload(data)), area=settings.area)
        # A long import logs a line per chunk (rows done so far), as the CLI prints them.
        return await import_stream(  # a late MalformedCsv rolls back all
            db, parser=parser, progress=lambda done: log.info("import progress", done=done))
    except MalformedCsv as exc:
        return JSONResponse(
            status_code=422,
            content={"error": f"malformed CSV: {exc}",
                     "detail": [{"field": "file", "message": str(exc), "type": "malformed_csv"}]},
        )


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"upload larger than {limit:,} bytes")
