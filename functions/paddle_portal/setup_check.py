"""The deployment's check for its operator: can the function read the Paddle key, is it a key of the Paddle
environment the stack calls, and may it do what the function does? Asked by a direct invocation
(`{"operation": "check_setup"}`; `make check-deploy` and `make put-key` send it), answered with one line per problem.

The key is read as every request reads it; Paddle is asked once for a portal session of a customer no account has
(Paddle checks the key and its permission before the customer: a 404 means the key may open sessions), and with
CUSTOMER_LOOKUP=verified_email once more for a customer list. Nothing of the key is ever in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paddle_portal import paddle_failures
from paddle_portal.deadline import Deadline
from paddle_portal.errors import ConfigurationError
from paddle_portal.observability import logger, tracer
from paddle_portal.paddle.errors import PaddleAuthenticationError, PaddleError, PaddleNotFoundError
from paddle_portal.portal import Dependencies

NOBODY = "ctm_" + "0" * 26  # well-formed; no Paddle account has it
NOBODY_EMAIL = "setup-check@example.com"
_KEY_ENVIRONMENTS = {"pdl_sdbx_": "sandbox", "pdl_live_": "production"}
_NAMES = {"sandbox": "Paddle's sandbox", "production": "live Paddle"}


@dataclass(frozen=True)
class SetupReport:
    environment: str  # the Paddle API this stack calls: "sandbox" or "production"
    problems: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "data": {"ok": not self.problems, "paddle_environment": self.environment, "problems": list(self.problems)}
        }


@tracer.capture_method(capture_response=False)
@paddle_failures.only_portal_errors
def check_setup(deps: Dependencies, deadline: Deadline) -> SetupReport:
    settings = deps.settings
    try:
        key = deps.api_key.refresh() or deps.api_key.get()  # what is stored now (a key may have just been put there)
    except ConfigurationError as error:  # its detail names the cause (missing, empty, placeholder), never the value
        declared = "sandbox" if settings.paddle_environment == "sandbox" else "production"
        return SetupReport(declared, (f"{error.detail}: store it with make put-key.",))
    prefix = next((prefix for prefix in _KEY_ENVIRONMENTS if key.startswith(prefix)), None)
    of_key = _KEY_ENVIRONMENTS[prefix] if prefix else None
    # As the client chooses: the stack's PaddleEnvironment, or with auto the key's prefix (none: live).
    calls = settings.paddle_environment if settings.paddle_environment != "auto" else (of_key or "production")
    if of_key is not None and of_key != calls:
        problem = (
            f"The key is a {'live' if of_key == 'production' else 'sandbox'} key ({prefix}...) but this stack calls "
            f"{_NAMES[calls]} (PaddleEnvironment={settings.paddle_environment}): store a key of {_NAMES[calls]}, or "
            f"deploy with PaddleEnvironment={of_key}."
        )
        return SetupReport(calls, (problem,))
    problems = [
        _ask(
            lambda: deps.client.create_portal_session(key, NOBODY, (), deadline), "customer_portal_session.write", calls
        )
    ]
    if settings.customer_lookup == "verified_email":
        problems.append(
            _ask(lambda: deps.client.find_customers_by_email(key, NOBODY_EMAIL, deadline), "customer.read", calls)
        )
    report = SetupReport(calls, tuple(problem for problem in problems if problem))
    logger.info("Setup checked", paddle_environment=calls, problems=len(report.problems))
    return report


def _ask(call: Callable[[], object], permission: str, environment: str) -> str | None:
    """None when Paddle accepts the key for `call` (a 404 for the customer no account has counts), else the problem."""
    try:
        call()
    except PaddleNotFoundError:
        return None
    except PaddleAuthenticationError as refused:
        if refused.code == "forbidden":
            return f"The key lacks the {permission} permission: add it in Paddle > Developer Tools > Authentication."
        return (
            f"Paddle refuses the key ({refused.code}): it is revoked, expired, or not a key of {_NAMES[environment]}."
        )
    except PaddleError as failed:
        return f"Paddle could not be asked ({type(failed).__name__}): the key is unchecked; try again."
    return None
