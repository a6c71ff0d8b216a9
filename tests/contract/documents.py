"""The OpenAPI documents the contract tests read, and JSON Schema validators over their components.

- Paddle's document, trimmed to the operations we call, creating a portal session and listing customers
  (`paddle/portal-sessions.openapi.yaml`, made by `trim_openapi.py` from Paddle's full document beside it).
- This service's own document (`openapi/paddle-portal.openapi.yaml`).
- `template.yaml`, read with a loader that understands CloudFormation's short tags (`!Ref`, `!Sub`, `!If`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.contract.trim_openapi import TRIMMED
from tests.contract.trim_openapi import load as load_yaml

REPO = Path(__file__).resolve().parents[2]
PADDLE_DOCUMENT = TRIMMED
OUR_DOCUMENT = REPO / "openapi" / "paddle-portal.openapi.yaml"
TEMPLATE = REPO / "template.yaml"

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


# --- template.yaml: CloudFormation's short tags become the long forms (`!Ref X` -> {"Ref": "X"}).


class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's intrinsic-function tags."""


def _cfn_constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":  # `!GetAtt Resource.Attribute` is the short form of a two-item list
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "Sub",
    "If",
    "GetAtt",
    "Equals",
    "Not",
    "And",
    "Or",
    "Condition",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Cidr",
    "Contains",
    "Length",
    "ToJsonString",
    "Transform",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
):
    CfnLoader.add_constructor(f"!{_tag}", _cfn_constructor(_tag))


@cache
def template() -> dict[str, Any]:
    with TEMPLATE.open(encoding="utf-8") as stream:
        loaded: dict[str, Any] = yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded
