"""What of Paddle's own words may reach a caller: texts that look like a credential or a link never do.

Paddle's error texts (`detail`, field `message`s) and request ids are written by Paddle, or by whatever answered in
its place (an edge, an egress proxy, a mis-set `PADDLE_API_BASE_URL`). An answer that echoes our request could carry
the `Authorization` header or a portal link with its token, and the caller may be anyone holding a signed link.
So a text passes only when it has none of the shapes below; otherwise the caller reads our own fixed text instead.
Codes and field names pass only in the shape Paddle gives them (they describe the caller's data).
"""

from __future__ import annotations

import re

# Anything that could be (part of) a credential or a link. Case-insensitive.
_CREDENTIAL_SHAPED = re.compile(
    r"pdl_|apikey|pga_|bearer\s|authorization|token|secret|password"  # API keys, portal tokens, headers
    r"|[a-z][a-z\d+.\-]*:\S|//|www\.|paddle\.com"  # a URL or a scheme ("javascript:x"), a bare portal host
    r"|[a-z\d_\-+/=]{40,}",  # a long opaque run: a legacy 50-character key, a JWT, a signature
    re.IGNORECASE,
)
# Codes and field names are words joined by "_" (and "." or "[0]" for fields): a key or token has a long opaque run.
_CODE = re.compile(r"[a-z\d]{1,20}(?:_[a-z\d]{1,20}){0,7}")  # "invalid_field", "invalid_token", ...
_FIELD = re.compile(r"[A-Za-z\d]{1,20}(?:(?:[_.]|\[\d{1,3}\]\.?)[A-Za-z\d]{0,20}){0,7}")  # "subscription_ids[0]"
_KEY_PREFIX = re.compile(r"pdl_|pga_|apikey", re.IGNORECASE)
_REQUEST_ID = re.compile(r"[A-Za-z\d\-_.:]{1,100}")  # a UUID in practice

DETAIL_LIMIT = 500  # characters of a detail or message a caller may read


def screened(text: str, replacement: str) -> str:
    """`text` when it is short, printable and has nothing credential- or link-shaped; else `replacement`."""
    if not text or len(text) > DETAIL_LIMIT or not text.isprintable() or _CREDENTIAL_SHAPED.search(text):
        return replacement
    return text


def screened_code(code: str, replacement: str) -> str:
    return code if _CODE.fullmatch(code) and not _KEY_PREFIX.search(code) else replacement


def screened_field(field: str) -> str:
    return field if _FIELD.fullmatch(field) and not _KEY_PREFIX.search(field) else "(field)"


def screened_request_id(request_id: object) -> str | None:
    """Paddle's request id when it has a request id's shape, else none (it is echoed in every answer)."""
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        return None
    return None if _CREDENTIAL_SHAPED.search(request_id) else request_id
