"""Powertools Logger, Tracer and Metrics for the whole function.

Never log or trace the event, a portal URL or the API key: log ids, counts, status and latency only.
"""

from __future__ import annotations

import os
import traceback

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from paddle_portal.errors import PortalError

logger = Logger()
# Patch nothing here: patching botocore imports it, a large share of every cold start. secrets.py patches botocore
# when it first reads the secret through boto3; urllib3 calls to Paddle are traced by hand (portal.py).
tracer = Tracer(auto_patch=False)
metrics = Metrics()


def record_session_created(latency_ms: float) -> None:
    metrics.add_metric(name="SessionsCreated", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="PaddleLatency", unit=MetricUnit.Milliseconds, value=latency_ms)


def record_customer_lookup(*, cache_hit: bool) -> None:
    metrics.add_metric(name="CustomerLookups", unit=MetricUnit.Count, value=1)
    if cache_hit:
        metrics.add_metric(name="CustomerLookupCacheHits", unit=MetricUnit.Count, value=1)


def record_paddle_error(code: str) -> None:
    metrics.add_metric(name="PaddleErrors", unit=MetricUnit.Count, value=1)
    _count("PaddleErrorsByCode", code=code)


def record_server_failure() -> None:
    """A failure on our side of the contract (500, 502, 504), answered or raised, counted per function version: the
    canary's rollback alarm watches the new version's count (template.yaml), which Lambda's own Errors metric cannot
    see when the function answers instead of raising."""
    _count("ServerFailures", version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"))


def _count(name: str, **dimensions: str) -> None:
    """One count with dimensions of its own besides the service (flushed at once, apart from the request's metrics)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as metric:
        metric.add_dimension(name="service", value=metrics.service or "paddle-portal")
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def log_refusal(error: PortalError) -> None:
    """A request we refused: status, code and our own message (never a secret: `PortalError`s are ours); 5xx as
    errors, for the alarms."""
    log = logger.error if error.status >= 500 else logger.info
    log("Request refused", status=error.status, code=error.code, reason=str(error), error_type=type(error).__name__)


def log_unexpected(error: BaseException) -> None:
    """Log a bug by its type and where it happened, never its message: the message of an exception nobody
    anticipated can hold anything (the API key, a portal link)."""
    frames = traceback.extract_tb(error.__traceback__)
    logger.error(
        "Unexpected error",
        error_type=type(error).__name__,
        stack=[f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames],
    )
