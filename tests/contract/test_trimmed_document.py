"""The trimmed Paddle document that Prism and the schema tests use is exactly what `trim_openapi.py` makes from
Paddle's full document, and keeps everything the operations we call need: creating a portal session and listing
customers (the verified-email lookup)."""

from __future__ import annotations

import copy
import hashlib
from functools import cache
from typing import Any

import pytest

from tests.contract import trim_openapi
from tests.contract.documents import paddle_document

# From SOURCE.md: the full document must be the file Paddle published, byte for byte.
PADDLE_SHA256 = "e57c515077cc85b42ce70210049e50aa34d5fd0d185dcee071d1120a32dc4b50"


@cache
def full_document() -> dict[str, Any]:
    return trim_openapi.load(trim_openapi.FULL)  # 1.6 MB: parse once


def test_full_document_is_paddles_published_file() -> None:
    assert hashlib.sha256(trim_openapi.FULL.read_bytes()).hexdigest() == PADDLE_SHA256
    assert PADDLE_SHA256 in (trim_openapi.FULL.parent / "SOURCE.md").read_text()
    assert "Apache License" in (trim_openapi.FULL.parent / "LICENSE").read_text()


def test_trimmed_document_is_up_to_date() -> None:
    """Regenerate with `python -m tests.contract.trim_openapi` when this fails."""
    expected = trim_openapi.render(trim_openapi.trim(full_document()))

    assert trim_openapi.TRIMMED.read_text(encoding="utf-8") == expected


def test_trim_keeps_both_operations_we_call() -> None:
    assert [(path, method, operation_id) for path, method, operation_id in trim_openapi.OPERATIONS] == [
        ("/customers/{customer_id}/portal-sessions", "post", "create-customer-portal-session"),
        ("/customers", "get", "list-customers"),
    ]


def test_trimmed_document_keeps_the_operations_unchanged() -> None:
    full = full_document()
    trimmed = paddle_document()

    # The portal-sessions path item is Paddle's, whole (POST is its only method)...
    assert trimmed["paths"][trim_openapi.PATH] == full["paths"][trim_openapi.PATH]
    # ...of `/customers` only the list operation is kept (creating customers is not ours to call)
    assert trimmed["paths"][trim_openapi.LIST_PATH] == {
        trim_openapi.LIST_METHOD: full["paths"][trim_openapi.LIST_PATH][trim_openapi.LIST_METHOD]
    }
    assert set(trimmed["paths"]) == {trim_openapi.PATH, trim_openapi.LIST_PATH}
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    operation_ids = [op["operationId"] for item in trimmed["paths"].values() for m, op in item.items() if m in methods]
    assert sorted(operation_ids) == ["create-customer-portal-session", "list-customers"]
    assert trimmed["servers"] == full["servers"]
    assert trimmed["security"] == full["security"] == [{"bearerAuth": []}]
    assert trimmed["components"]["securitySchemes"] == full["components"]["securitySchemes"]
    for section, items in trimmed["components"].items():
        for name, value in items.items():
            assert value == full["components"][section][name], f"{section}/{name} differs from Paddle's"


def test_every_reference_of_the_trimmed_document_resolves_inside_it() -> None:
    trimmed = paddle_document()
    refs = trim_openapi._refs(trimmed)

    assert "#/components/schemas/customer-portal-session" in refs
    assert "#/components/schemas/customer" in refs  # list-customers' entries
    assert "#/components/parameters/email_query" in refs
    assert "#/components/parameters/status_query" in refs
    for ref in refs:
        node = trimmed
        for part in trim_openapi._pointer(ref):
            node = node[part]  # KeyError: the trim lost a component


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [pytest.param(*operation, id=operation[2]) for operation in trim_openapi.OPERATIONS],
)
def test_trim_refuses_a_document_where_the_operation_moved(path: str, method: str, operation_id: str) -> None:
    moved = copy.deepcopy(full_document())
    moved["paths"][path][method]["operationId"] = "something-else"

    with pytest.raises(ValueError, match=operation_id):
        trim_openapi.trim(moved)


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [pytest.param(*operation, id=operation[2]) for operation in trim_openapi.OPERATIONS],
)
def test_trim_refuses_a_document_where_the_operation_is_gone(path: str, method: str, operation_id: str) -> None:
    gone = copy.deepcopy(full_document())
    del gone["paths"][path][method]

    with pytest.raises(ValueError, match=operation_id):
        trim_openapi.trim(gone)
