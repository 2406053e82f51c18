"""The short link a campaign SMS ends with: `<public base>/c/<token>`.

The notifier makes and serves the tokens; the dispatcher's dry run needs only the link's
length, so the format lives here and the token's length with it.
"""

from __future__ import annotations

TOKEN_BYTES = 16  # 128 bits
TOKEN_LENGTH = 22  # base64url of 16 bytes, unpadded


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/c/{token}"
