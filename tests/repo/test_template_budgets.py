"""The template's throttles: a budget per caller class, on routes that exist, and the customer bound set."""

from __future__ import annotations

from typing import Any

import pytest

from paddle_portal.http_api.auth import Auth
from paddle_portal.http_api.routes import ROUTES
from tests.template import load_template

PARAMETERS_BY_AUTH = {
    Auth.LINK: ("LinkRouteRateLimit", "LinkRouteBurstLimit"),
    Auth.JWT: ("JwtRouteRateLimit", "JwtRouteBurstLimit"),
    Auth.IAM: ("IamRouteRateLimit", "IamRouteBurstLimit"),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def route_settings(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    (api,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi"]
    condition, with_jwt, without_jwt = api["Properties"]["RouteSettings"]["Fn::If"]
    assert condition == "HasJwtIssuer"
    return with_jwt, without_jwt


def test_every_route_has_its_caller_class_budget(template: dict[str, Any]) -> None:
    with_jwt, without_jwt = route_settings(template)
    assert set(with_jwt) == {f"{r.method} {r.template}" for r in ROUTES}
    # API Gateway refuses settings for a route it does not have: without an issuer there are no JWT routes.
    assert set(without_jwt) == {f"{r.method} {r.template}" for r in ROUTES if r.auth is not Auth.JWT}
    for route in ROUTES:
        settings = with_jwt[f"{route.method} {route.template}"]
        rate, burst = PARAMETERS_BY_AUTH[route.auth]
        assert settings == {"ThrottlingRateLimit": {"Ref": rate}, "ThrottlingBurstLimit": {"Ref": burst}}
        assert without_jwt.get(f"{route.method} {route.template}", settings) == settings


def test_budgets_leave_room_for_one_scripted_customer_and_a_garbage_flood(template: dict[str, Any]) -> None:
    default = {
        name: int(p["Default"])
        for name, p in template["Parameters"].items()
        if "Default" in p and p["Type"] == "Number"
    }
    assert default["JwtRouteRateLimit"] > 20  # one customer's script at 20 rps leaves room for everyone else
    assert default["LinkRouteRateLimit"] > 20  # a flood of bad links at 20/s leaves room for genuine ones
    for rate, burst in PARAMETERS_BY_AUTH.values():
        assert default[burst] >= default[rate] >= 1


def test_the_customer_bound_reaches_the_function(template: dict[str, Any]) -> None:
    variables = template["Resources"]["PortalFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CUSTOMER_SESSION_BURST"] == {"Ref": "CustomerSessionBurst"}
    assert int(template["Parameters"]["CustomerSessionBurst"]["Default"]) >= 1
