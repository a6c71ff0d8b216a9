"""`retry_policy.retry_delay`: the whole retry decision as a table (jitter pinned to the full delay), and how
`Retry-After` is read."""

from __future__ import annotations

import pytest

from paddle_portal.paddle import retry_policy
from paddle_portal.paddle.retry_policy import equal_jitter, parse_retry_after, retry_delay

ROOM = 10.0  # plenty of deadline left


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_policy, "equal_jitter", lambda delay: delay)


@pytest.mark.usefixtures("no_jitter")
@pytest.mark.parametrize(
    ("attempt", "outcome", "retry_after", "remaining", "expected"),
    [
        # answers that are final
        pytest.param(1, 201, None, ROOM, None, id="created"),
        pytest.param(1, 400, None, ROOM, None, id="caller-data"),
        pytest.param(1, 403, None, ROOM, None, id="key-rejected"),
        pytest.param(1, 404, None, ROOM, None, id="not-found"),
        pytest.param(1, 501, None, ROOM, None, id="not-implemented"),
        # retryable answers: exponential backoff, Paddle's Retry-After when longer
        pytest.param(1, 429, None, ROOM, 0.2, id="429-backoff"),
        pytest.param(1, 429, 1.0, ROOM, 1.0, id="429-retry-after-longer"),
        pytest.param(1, 503, 0.0, ROOM, 0.2, id="503-retry-after-shorter"),
        pytest.param(2, 500, None, ROOM, 0.4, id="500-second-backoff"),
        pytest.param(2, 502, None, ROOM, 0.4, id="502"),
        pytest.param(1, 504, None, ROOM, 0.2, id="504"),
        pytest.param(3, 503, None, ROOM, None, id="attempts-spent"),
        # failures without an answer
        pytest.param(1, "connection", None, ROOM, 0.0, id="stale-connection-at-once"),
        pytest.param(2, "connection", None, ROOM, 0.4, id="connection-then-backoff"),
        pytest.param(1, "timeout", None, ROOM, 0.2, id="timeout"),
        pytest.param(1, "tls", None, ROOM, None, id="certificate-never"),
        pytest.param(3, "connection", None, ROOM, None, id="connection-attempts-spent"),
        pytest.param(1, "connection", 5.0, ROOM, 0.0, id="retry-after-only-for-answers"),
        # the deadline
        pytest.param(1, 429, 5.0, 5.2, None, id="retry-after-beyond-deadline"),
        pytest.param(1, 429, 5.0, 5.25, 5.0, id="retry-after-just-fits"),
        pytest.param(1, 500, None, 0.44, None, id="backoff-leaves-too-little"),
        pytest.param(1, "connection", None, 0.2, None, id="no-time-for-another-attempt"),
    ],
)
def test_retry_delay(attempt, outcome, retry_after, remaining, expected):
    assert retry_delay(attempt, outcome, retry_after, remaining) == pytest.approx(expected)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_jitter")
def test_backoff_is_capped(monkeypatch):
    monkeypatch.setattr(retry_policy, "MAX_ATTEMPTS", 20)
    assert retry_delay(15, 500, None, 100.0) == retry_policy.BACKOFF_MAX_SECONDS


def test_jitter_is_between_half_and_all_of_the_delay():
    samples = [equal_jitter(0.4) for _ in range(200)]

    assert all(0.2 <= sample <= 0.4 for sample in samples)
    assert len(set(samples)) > 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("3", 3.0, id="seconds"),
        pytest.param(" 7 ", 7.0, id="padded"),
        pytest.param("-1", None, id="negative"),
        pytest.param("1.5", None, id="fraction"),
        pytest.param("\xb2", None, id="superscript-digit"),
        pytest.param("9" * 5000, None, id="5000-digits"),
        pytest.param("86401", None, id="over-a-day"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("Thu, 99 Foo 2024 25:61:61 GMT", None, id="bad-date"),
        pytest.param("soon", None, id="unreadable"),
    ],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds
