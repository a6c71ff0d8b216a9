"""Strict models applied to what callers send: a failure is one `InvalidRequestError` whose field errors name the
field and never echo the value."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from paddle_portal.errors import FieldError, InvalidRequestError

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: object, *, tagged: bool = False) -> M:
    """`model.model_validate(data)`, or the caller's field errors. `tagged`: the model is a discriminated union,
    whose errors' locations start with the member's tag (not a field of the caller's)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=tuple(FieldError(_field_name(err["loc"][tagged:]), _message(err)) for err in exc.errors()),
        ) from None


def _field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name[:100] or "body"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "is not a known field"
    if err["type"] == "literal_error":
        return str(err["msg"]).replace("Input should be", "must be")
    return str(err["msg"]).removeprefix("Value error, ")
