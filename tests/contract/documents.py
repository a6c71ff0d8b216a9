"""The OpenAPI documents the contract tests read, and JSON Schema validators over their components.

- Paddle's document, trimmed to the operations we call, creating a portal session and listing customers
  (`paddle/portal-sessions.openapi.yaml`, made by `trim_openapi.py` from Paddle's full document beside it).
- This service's own document (`openapi/paddle-portal.openapi.yaml`).
- `template.yaml`, read by `tests/template.py` (CloudFormation's short tags as their long forms).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.contract.trim_openapi import TRIMMED
from tests.contract.trim_openapi import load as load_yaml
from tests.template import TEMPLATE, load_template

REPO = Path(__file__).resolve().parents[2]
PADDLE_DOCUMENT = TRIMMED
OUR_DOCUMENT = REPO / "openapi" / "paddle-portal.openapi.yaml"

PADDLE_URI = "urn:paddle:openapi"
OUR_URI = "urn:paddle-portal:openapi"

# --- formats the OpenAPI documents use. jsonschema checks `date-time` and `uri` only with optional extra packages;
# these small checkers make the checks real without them.
FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # raises for 2024-13-45
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and not any(c.isspace() for c in value)


@cache
def paddle_document() -> dict[str, Any]:
    return load_yaml(PADDLE_DOCUMENT)


@cache
def our_document() -> dict[str, Any]:
    return load_yaml(OUR_DOCUMENT)


def _registry() -> Registry:  # type: ignore[type-arg]
    return Registry().with_resources(
        [
            (PADDLE_URI, Resource(contents=paddle_document(), specification=DRAFT202012)),
            (OUR_URI, Resource(contents=our_document(), specification=DRAFT202012)),
        ]
    )


def validator(document_uri: str, pointer: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for the schema at `pointer` (e.g. `/components/schemas/error`) of a document,
    with `$ref`s resolved inside that document and `date-time`/`uri` formats checked."""
    schema = {"$ref": f"{document_uri}#{pointer}"}
    return Draft202012Validator(schema, registry=_registry(), format_checker=FORMATS)


def paddle_validator(pointer: str) -> Draft202012Validator:
    return validator(PADDLE_URI, pointer)


def our_validator(pointer: str) -> Draft202012Validator:
    return validator(OUR_URI, pointer)


def problems(checker: Draft202012Validator, instance: Any) -> list[str]:
    """Every violation, as `path: message` lines (empty when valid): readable in an assertion failure."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(checker.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


def template() -> dict[str, Any]:
    """`template.yaml`, through the tests' one CloudFormation loader."""
    return load_template(TEMPLATE)
