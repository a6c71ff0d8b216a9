"""The trimmed Paddle document that Prism and the schema tests read is Paddle's published document, cut down by
`trim_openapi.py` without changing a thing of what it keeps."""

from __future__ import annotations

import copy
import hashlib
from functools import cache
from typing import Any

import pytest

from tests.contract import trim_openapi
from tests.contract.documents import at, paddle_document

PADDLE_SHA256 = "e57c515077cc85b42ce70210049e50aa34d5fd0d185dcee071d1120a32dc4b50"  # SOURCE.md: the published file


@cache
def full_document() -> dict[str, Any]:
    return trim_openapi.load(trim_openapi.FULL)  # 1.6 MB: parse once


def test_the_full_document_is_paddles_published_file_and_the_trimmed_one_is_made_from_it() -> None:
    assert hashlib.sha256(trim_openapi.FULL.read_bytes()).hexdigest() == PADDLE_SHA256
    assert PADDLE_SHA256 in (trim_openapi.FULL.parent / "SOURCE.md").read_text()
    assert "Apache License" in (trim_openapi.FULL.parent / "LICENSE").read_text()
    # Regenerate with `python -m tests.contract.trim_openapi` when this fails
    assert trim_openapi.TRIMMED.read_text(encoding="utf-8") == trim_openapi.render(trim_openapi.trim(full_document()))


def test_what_the_trim_keeps_is_paddles_unchanged_and_complete() -> None:
    full, trimmed = full_document(), paddle_document()

    for path, method, _ in trim_openapi.OPERATIONS:
        assert trimmed["paths"][path][method] == full["paths"][path][method]
    for key in ("servers", "security"):
        assert trimmed[key] == full[key]
    assert trimmed["components"]["securitySchemes"] == full["components"]["securitySchemes"]
    for section, items in trimmed["components"].items():
        assert {name: full["components"][section][name] for name in items} == items, section
    for ref in trim_openapi.refs(trimmed):
        at(trimmed, ref)  # KeyError: the trim lost a component


@pytest.mark.parametrize("operation", trim_openapi.OPERATIONS, ids=lambda operation: operation[2])
def test_the_trim_refuses_a_document_without_an_operation_we_call(operation: tuple[str, str, str]) -> None:
    path, method, operation_id = operation
    document = copy.deepcopy(full_document())
    document["paths"][path][method]["operationId"] = "something-else"

    with pytest.raises(ValueError, match=operation_id):
        trim_openapi.trim(document)
