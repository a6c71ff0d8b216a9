"""The OpenAPI documents the contract tests read, and JSON Schema (Draft 2020-12) validators over their parts: Paddle's
document trimmed to the operations we call (`paddle/portal-sessions.openapi.yaml`, made by `trim_openapi.py`) and this
service's own (`openapi/paddle-portal.openapi.yaml`)."""

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

from tests.contract.trim_openapi import LIST_PATH, PATH, TRIMMED
from tests.contract.trim_openapi import load as load_yaml

REPO = Path(__file__).resolve().parents[2]
PADDLE_DOCUMENT = TRIMMED
OUR_DOCUMENT = REPO / "openapi" / "paddle-portal.openapi.yaml"
PADDLE_URI, OUR_URI = "urn:paddle:openapi", "urn:paddle-portal:openapi"
CREATE = f"/paths/{PATH.replace('/', '~1')}/post"  # JSON pointers to Paddle's two operations
LIST = f"/paths/{LIST_PATH.replace('/', '~1')}/get"

# jsonschema checks `date-time` and `uri` only with optional packages; these make the checks real without them.
FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str) and _RFC3339.match(value):
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # raises for 2024-13-45
    return not isinstance(value, str) or bool(_RFC3339.match(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or (bool(parts.scheme and (parts.netloc or parts.path)) and not any(map(str.isspace, value)))


@cache
def paddle_document() -> dict[str, Any]:
    return load_yaml(PADDLE_DOCUMENT)


@cache
def our_document() -> dict[str, Any]:
    return load_yaml(OUR_DOCUMENT)


def at(document: dict[str, Any], pointer: str) -> Any:
    """The node at a JSON pointer (`/a/b~1c`) of a document."""
    node: Any = document
    for part in pointer.removeprefix("#").strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def validator(uri: str, pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` of a document, `$ref`s resolved inside it, formats checked."""
    registry: Registry = Registry().with_resources(  # type: ignore[type-arg]
        [(PADDLE_URI, Resource(paddle_document(), DRAFT202012)), (OUR_URI, Resource(our_document(), DRAFT202012))]
    )
    return Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=registry, format_checker=FORMATS)


def problems(checker: Draft202012Validator, instance: Any) -> list[str]:
    """Every violation as `path: message` (empty when valid): readable in an assertion failure."""
    errors = sorted(checker.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors]


def examples(pointer: str) -> list[Any]:
    """The `value` of every example of a media type of Paddle's document (`$ref`s to components followed)."""
    found = at(paddle_document(), pointer)["examples"].values()
    return [at(paddle_document(), e["$ref"])["value"] if "$ref" in e else e["value"] for e in found]


CREATED = validator(PADDLE_URI, f"{CREATE}/responses/201/content/application~1json/schema")
LISTED = validator(PADDLE_URI, f"{LIST}/responses/200/content/application~1json/schema")
ERROR = validator(PADDLE_URI, "/components/schemas/error")
CREATE_BODY = validator(PADDLE_URI, "/components/schemas/customer-portal-session-create")
[SESSION_EXAMPLE] = examples(f"{CREATE}/responses/201/content/application~1json")
[LIST_EXAMPLE] = examples(f"{LIST}/responses/200/content/application~1json")
