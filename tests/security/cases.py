"""The security tier's Paddle stand-in: a handler that answers for whichever customer it is asked about, so a test
sees *which* customer the function asked for instead of a 500 from an unexpected path. (Events: `tests/events.py`.)"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.support import PaddleStub, portal_session

SESSION_PATH = re.compile(r"^/customers/[^/]+/portal-sessions$")


def respond_as_paddle(request: Any) -> Any:
    """Paddle's 201 for the customer in the path and the subscriptions in the body (whatever they are)."""
    from werkzeug import Response

    customer_id = request.path.split("/")[2]
    try:
        sent = json.loads(request.get_data() or b"{}")
    except ValueError:
        sent = {}
    subscription_ids = tuple(sent.get("subscription_ids", ())) if isinstance(sent, dict) else ()
    body = portal_session(customer_id, subscription_ids)
    request_id = str(uuid.uuid4())
    body["meta"]["request_id"] = request_id
    return Response(json.dumps(body), status=201, content_type="application/json", headers={"Request-Id": request_id})


def customers_called(paddle: PaddleStub) -> list[str]:
    """The customer of every request Paddle received, in order."""
    return [request.path.split("/")[2] for request in paddle.requests]
