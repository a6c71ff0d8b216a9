"""The trimmed Paddle document that Prism and the schema tests use is exactly what `trim_openapi.py` makes from
Paddle's full document, and keeps everything the operation needs."""

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


def test_trimmed_document_keeps_the_operation_unchanged() -> None:
    full = full_document()
    trimmed = paddle_document()

    assert trimmed["paths"] == {trim_openapi.PATH: full["paths"][trim_openapi.PATH]}
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
    for ref in refs:
        node = trimmed
        for part in trim_openapi._pointer(ref):
            node = node[part]  # KeyError: the trim lost a component


def test_trim_refuses_a_document_where_the_operation_moved() -> None:
    moved = copy.deepcopy(full_document())
    moved["paths"][trim_openapi.PATH]["post"]["operationId"] = "something-else"

    with pytest.raises(ValueError, match="create-customer-portal-session"):
        trim_openapi.trim(moved)
