"""A process that changes its configuration between invocations (a test run, a local run) gets the new one:
settings follow the environment, and Powertools' `parameters.clear_caches()` clears the secret cache."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

from tests.events import load_event
from tests.support import ROTATED_API_KEY, SECRET_ID, PaddleStub


def test_new_secret_value_is_read_after_powertools_clear_caches(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given a warm function that already read the key
    paddle.creates_session()
    assert invoke(load_event("http_api/post_portal_sessions_iam_no_body.json"))["statusCode"] == 201

    # When the secret changes and Powertools' caches are cleared (as its docs tell tests to do)
    aws.client.put_secret_value(SecretId=SECRET_ID, SecretString=ROTATED_API_KEY)
    parameters.clear_caches()
    assert invoke(load_event("http_api/post_portal_sessions_iam_no_body.json"))["statusCode"] == 201

    # Then the second call used the new key, read with a second GetSecretValue
    assert paddle.requests[-1].headers["Authorization"] == f"Bearer {ROTATED_API_KEY}"
    assert aws.get_secret_value == 2


def test_changed_environment_takes_effect_without_clearing_anything(
    invoke: Any, paddle: PaddleStub, aws: Any, monkeypatch: Any
) -> None:
    # Given a warm function with the default claim name
    event = load_event("http_api/get_portal_jwt.json")
    paddle.creates_session(subscription_ids=("sub_01h8bx8fmywym11t6swgzba704",))
    assert invoke(event)["statusCode"] == 200

    # When the claim name setting changes to one the token does not carry
    monkeypatch.setenv("CUSTOMER_ID_CLAIM", "custom:other_claim")
    refused = invoke(event)

    # Then the next invocation uses it
    assert refused["statusCode"] == 403
    assert json.loads(refused["body"])["error"]["code"] == "forbidden"
