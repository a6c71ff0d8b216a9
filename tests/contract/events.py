"""Sample events from `events/` with the body, query or Accept header replaced (the rest stays what AWS sends)."""

from __future__ import annotations

import base64
import copy
from typing import Any

from tests.conftest import load_event


def http_event(
    name: str,
    body: str | None = None,
    *,
    base64_body: bool = False,
    query: str | None = None,
    accept: str | None = None,
) -> dict[str, Any]:
    """`events/<name>` with `body` (None: no body), `query` (the raw query string) and `accept` replaced."""
    event = copy.deepcopy(load_event(name))
    if accept is not None:
        event["headers"]["accept"] = accept
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif base64_body:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body.encode()).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    if query is not None:
        event["rawQueryString"] = query
    return event
