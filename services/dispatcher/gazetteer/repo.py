"""Gazetteer rows in the dispatcher's schema: bulk upsert and ranked trigram search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from baiying_dispatcher.gazetteer.rows import Address

_UPSERT = """
INSERT INTO gazetteer (address, district, community, police_room, location, search, source)
SELECT a, d, c, p, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, s, $8
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
            $7::text[]) AS t(a, d, c, p, lat, lon, s)
ON CONFLICT (district, address) DO UPDATE SET
    community = EXCLUDED.community, police_room = EXCLUDED.police_room,
    location = EXCLUDED.location, search = EXCLUDED.search, source = EXCLUDED.source,
    updated_at = now()
"""


async def upsert(
    conn: asyncpg.Connection[Any], rows: Sequence[Address], *, source: str = "import"
) -> int:
    """Insert or refresh addresses (a re-import of the same file changes nothing twice)."""
    if not rows:
        return 0
    await conn.execute(
        _UPSERT, [r.address for r in rows], [r.district for r in rows],
        [r.community for r in rows], [r.police_room for r in rows], [r.lat for r in rows],
        [r.lon for r in rows], [r.search for r in rows], source,
    )
    return len(rows)


# LIKE escapes with a backslash by default (see _like). Tiers, best first: the address
# starts with what was typed; every typed word occurs somewhere (district, address,
# community); only similar (a typo, a character off).
# Within a tier: closer trigram similarity, then the shorter (more general) address.
_SEARCH = """
SELECT id, address, district, community, police_room,
       ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon,
       CASE WHEN address LIKE $2 THEN 0
            WHEN search LIKE ALL($3::text[]) THEN 1 ELSE 2 END AS tier,
       public.similarity(search, $1) AS score
FROM gazetteer
WHERE ($4::text[] IS NULL OR district = ANY($4::text[]))
  AND (search LIKE ALL($3::text[]) OR search OPERATOR(public.%) $1)
ORDER BY tier, score DESC, length(address), address
LIMIT $5
"""


def _like(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: asyncpg.Connection[Any], *, query: str, districts: list[str] | None, limit: int
) -> list[asyncpg.Record]:
    """Addresses matching `query` in `districts` (None: all), ranked."""
    tokens = query.split()
    rows: list[asyncpg.Record] = await conn.fetch(
        _SEARCH, "".join(tokens), _like(tokens[0]) + "%",
        [f"%{_like(t)}%" for t in tokens], districts, limit,
    )
    return rows


async def count(conn: asyncpg.Connection[Any], *, district: str | None = None) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM gazetteer WHERE $1::text IS NULL OR district = $1", district
    )
    return n
