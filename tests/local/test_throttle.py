"""make run throttles as the deployed stack does: the template's route budgets, token buckets, API Gateway's 429."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import urllib3

from local.server import CLAIM_USER, SAMPLE_CUSTOMER_ID, GatewayServer, serve
from local.throttle import RouteThrottle, TokenBucket, from_environ
from tests.local.test_local_server import bearer, sigv4
from tests.template import load_template


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_budgets_are_the_templates_stage() -> None:
    # The stage the template declares, as SAM hands it to API Gateway (tests/infrastructure checks the translation).
    api = next(r for r in load_template()["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi")
    stage = api["Properties"]
    throttle = RouteThrottle.from_template()

    for key, settings in stage["RouteSettings"].items():
        assert throttle.routes[key] == (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"])
    default = stage["DefaultRouteSettings"]
    assert throttle.default == (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"])
    assert throttle.routes["GET /links/portal"] != throttle.default  # the anonymous route has a bucket of its own


@pytest.mark.parametrize(
    ("rate", "burst", "steps", "admitted"),
    [
        pytest.param(1.0, 3, [0, 0, 0, 0], [True, True, True, False], id="burst-then-refused"),
        pytest.param(1.0, 3, [0, 0, 0, 0, 1.0], [True, True, True, False, True], id="one-token-a-second"),
        pytest.param(2.0, 1, [0, 0, 0.25, 0.25], [True, False, False, True], id="half-a-token-is-not-one"),
        pytest.param(1.0, 2, [0, 0, 100, 0, 0], [True, True, True, True, False], id="refill-capped-at-burst"),
    ],
)
def test_token_bucket(rate: float, burst: int, steps: list[float], admitted: list[bool]) -> None:
    clock = Clock()
    bucket = TokenBucket(rate, burst, clock)
    seen = []
    for step in steps:
        clock.now += step
        seen.append(bucket.take())
    assert seen == admitted


def test_each_route_has_its_own_bucket_and_unnamed_routes_the_default() -> None:
    clock = Clock()
    throttle = RouteThrottle((1.0, 1), {"GET /links/portal": (1.0, 2)}, clock)
    assert [throttle.admit("GET /links/portal") for _ in range(3)] == [True, True, False]
    assert throttle.admit("GET /portal") is True  # another route, another bucket
    assert throttle.admit("POST /other") is True
    assert throttle.admit("POST /other") is False


def test_the_setting_turns_it_off() -> None:
    assert from_environ({"LOCAL_THROTTLE": "off"}) is None
    assert from_environ({}) is not None


@pytest.fixture
def api(restore_environ: None) -> Iterator[GatewayServer]:
    server = serve(port=0)
    # The template's budgets, with the signed-link route's made small so a short flood exhausts it.
    template = RouteThrottle.from_template()
    server.throttle = RouteThrottle(template.default, {**template.routes, "GET /links/portal": (1.0, 10)})
    yield server
    server.close()


def test_a_flood_of_bad_links_meets_429_on_its_own_route_while_jwt_and_iam_callers_are_served(
    api: GatewayServer,
) -> None:
    http = urllib3.PoolManager()
    # Given a flood of garbage links on the anonymous route
    flood = [http.request("GET", f"{api.url}/links/portal?c=garbage{n}").status for n in range(30)]
    assert flood.count(429) >= 15
    assert set(flood) <= {403, 429}
    refused = http.request("GET", f"{api.url}/links/portal?c=garbage")
    assert refused.status == 429
    assert json.loads(refused.data) == {"message": "Too Many Requests"}
    # When a signed-in customer and a backend call right after, Then they are served (their routes' own budgets)
    jwt = http.request(
        "GET", f"{api.url}/portal", headers={**bearer(api, CLAIM_USER.email), "Accept": "application/json"}
    )
    assert jwt.status == 200, jwt.data
    url = f"{api.url}/customers/{SAMPLE_CUSTOMER_ID}/portal-sessions"
    iam = http.request("POST", url, body=b"", headers=sigv4("POST", url))
    assert iam.status == 201, iam.data
