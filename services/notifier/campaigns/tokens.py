"""Per-recipient link tokens: 128 random bits, base64url, kept only as their SHA-256.

A token names one campaign message and nothing else: it carries no personal data, and the
page it opens shows only that message's case. Being random, it needs no key to hash: a
stolen table of hashes cannot be turned back into links.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from baiying_shared.sms.links import TOKEN_BYTES, TOKEN_LENGTH

_SHAPE = re.compile(rf"^[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}$")


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode()


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def well_formed(token: str) -> bool:
    """Only our tokens' shape is looked up (a garbled one is a 404 without a query)."""
    return bool(_SHAPE.match(token))

