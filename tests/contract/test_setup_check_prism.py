"""make check-deploy's question to Paddle (`{"operation": "check_setup"}`, setup_check.py), asked of Prism: both
requests conform to Paddle's document, and Paddle's documented answers read as a key that works."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from paddle_portal.app import lambda_handler
from paddle_portal.setup_check import NOBODY
from tests.contract.prism import PrismTap
from tests.contract.trim_openapi import LIST_PATH
from tests.support import LambdaContext

pytestmark = pytest.mark.slow  # a Node process and real sockets


def test_the_setup_check_asks_paddle_as_its_document_says(
    aws: Any, prism: PrismTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PADDLE_API_BASE_URL", prism.url)
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")  # the customer list is asked too

    report = lambda_handler({"operation": "check_setup"}, LambdaContext(remaining_ms=30_000))

    assert report["data"] == {"ok": True, "paddle_environment": "sandbox", "problems": []}
    assert [(e.method, urlsplit(e.path).path, e.violations) for e in prism.exchanges] == [
        ("POST", f"/customers/{NOBODY}/portal-sessions", []),
        ("GET", LIST_PATH, []),
    ]
