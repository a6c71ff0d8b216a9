"""API Gateway's throttling, played locally: a token bucket per route, with the rates and bursts of template.yaml.

HTTP API throttles with the token bucket algorithm: a route's bucket holds `burst` tokens and refills at `rate` per
second; a request takes one token or is answered 429 {"message":"Too Many Requests"} before any authorizer or the
function runs. A route named in the stage's `RouteSettings` has that budget; any other route gets the stage's
`DefaultRouteSettings`, as a bucket of its own (docs/operations.md cites AWS's documentation).

The numbers are read from template.yaml, the one source (they are constants there). `LOCAL_THROTTLE=off` turns
throttling off for a run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
SETTING = "LOCAL_THROTTLE"


@dataclass
class TokenBucket:
    """`rate` tokens a second up to `burst`; starts full."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _since: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._since = self.clock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._since) * self.rate)
            self._since = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


@dataclass
class RouteThrottle:
    default: tuple[float, float]  # (rate, burst) of the stage's default route settings
    routes: dict[str, tuple[float, float]]  # route key ("GET /links/portal") -> (rate, burst)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, TokenBucket] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def admit(self, route_key: str) -> bool:
        with self._lock:
            bucket = self._buckets.get(route_key)
            if bucket is None:
                rate, burst = self.routes.get(route_key, self.default)
                bucket = self._buckets[route_key] = TokenBucket(rate, burst, self.clock)
        return bucket.take()

    @classmethod
    def from_template(cls, path: Path = TEMPLATE, *, clock: Callable[[], float] = time.monotonic) -> RouteThrottle:
        (api,) = [r for r in _load(path)["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi"]
        properties = api["Properties"]
        routes = {key: _budget(settings) for key, settings in (properties.get("RouteSettings") or {}).items()}
        return cls(_budget(properties["DefaultRouteSettings"]), routes, clock)


def reserved_concurrency(path: Path = TEMPLATE) -> int:
    """How many execution environments the template lets the function have at once."""
    return int(_load(path)["Resources"]["PortalFunction"]["Properties"]["ReservedConcurrentExecutions"])


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return document


def from_environ(environ: Mapping[str, str], **kwargs: Any) -> RouteThrottle | None:
    """The template's throttles, unless `LOCAL_THROTTLE=off`."""
    if environ.get(SETTING, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    return RouteThrottle.from_template(**kwargs)


def _budget(settings: Mapping[str, Any]) -> tuple[float, float]:
    return float(settings["ThrottlingRateLimit"]), float(settings["ThrottlingBurstLimit"])


class _Loader(yaml.SafeLoader):
    """CloudFormation's short tags as their long forms (`!Ref X` -> {"Ref": "X"})."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _intrinsic)
