"""What API Gateway HTTP API checks before it calls the function: its JWT authorizer and its IAM (SigV4) check.

Each `check` returns the `requestContext.authorizer` value for the event when the request passes, or a `Refusal`:
the status and body API Gateway answers with, the function never called. Pure, no sockets; `local.gateway` uses them.

- `JwtAuthorizer`: the token from `Authorization` (bare or after `Bearer `), RS256/384/512 only, signed by a key of
  the issuer's JWKS named by the token's `kid`; `iss` equal to the issuer; `aud` (or `client_id` when the token has
  no `aud`, as Cognito's access tokens) one of the audiences; `exp` after, `nbf` and `iat` before now. Any failure:
  401 {"message":"Unauthorized"}. The claims reach the function as strings, as HTTP API hands them over.
- `IamAuthorizer`: the SigV4 signature recomputed with botocore from the request as received (method, raw path and
  query, the signed headers only, the raw body) and the secret key of the access key it names, for service
  `execute-api` in the configured region, with `X-Amz-Date` no more than 5 minutes from now. Failures answer 403
  with API Gateway's messages. Query-string (presigned) SigV4 is not supported here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")  # HTTP API JWT authorizers support RSA-based algorithms only
MAX_CLOCK_SKEW_SECONDS = 5 * 60  # SigV4: API Gateway refuses an X-Amz-Date further than this from its clock
AMZ_DATE = "%Y%m%dT%H%M%SZ"

UNAUTHORIZED = "Unauthorized"
FORBIDDEN = "Forbidden"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
    "and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."  # noqa: S105 - a message

Clock = Callable[[], float]


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str

    def body(self) -> bytes:
        return json.dumps({"message": self.message}, separators=(",", ":")).encode()


Authorizer = dict[str, Any]  # the `requestContext.authorizer` object of a payload 2.0 event


@dataclass(frozen=True)
class JwtAuthorizer:
    issuer: str
    audiences: Sequence[str]
    jwks: Mapping[str, Any]  # the issuer's key set, {"keys": [...]}
    clock: Clock = field(default=time.time, compare=False)

    def check(self, authorization: str | None) -> Authorizer | Refusal:
        claims = self.verified_claims(authorization)
        if claims is None:
            return Refusal(401, UNAUTHORIZED)
        scopes = str(claims.get("scope") or claims.get("scp") or "").split()
        return {
            "jwt": {"claims": {name: claim_string(value) for name, value in claims.items()}, "scopes": scopes or None}
        }

    def verified_claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The token's claims when every check passes, else None."""
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if token.count(".") != 2:
            return None
        try:
            keys = KeySet.import_key_set(dict(self.jwks))  # type: ignore[arg-type]
            decoded = jwt.decode(token, keys, algorithms=list(RSA_ALGORITHMS))
        except (JoseError, ValueError, TypeError, KeyError):
            return None
        kid = decoded.header.get("kid")
        if decoded.header.get("alg") not in RSA_ALGORITHMS or not any(k.get("kid") == kid for k in self.jwks["keys"]):
            return None
        claims = dict(decoded.claims)
        return claims if self._claims_pass(claims) else None

    def _claims_pass(self, claims: dict[str, Any]) -> bool:
        now = self.clock()
        audience = claims["aud"] if "aud" in claims else claims.get("client_id")  # aud wins when both are present
        audiences = audience if isinstance(audience, list) else [audience]
        return (
            claims.get("iss") == self.issuer
            and any(isinstance(a, str) and a in self.audiences for a in audiences)
            and _number(claims.get("exp")) is not None
            and now < _number(claims["exp"])  # type: ignore[operator]
            and all(_before(claims, name, now) for name in ("nbf", "iat"))
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _before(claims: dict[str, Any], name: str, now: float) -> bool:
    """An absent `nbf`/`iat` passes; a present one must be a number not after now."""
    if name not in claims:
        return True
    value = _number(claims[name])
    return value is not None and value <= now


def claim_string(value: Any) -> str:
    """API Gateway hands every JWT claim to the integration as a string; arrays look like `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


@dataclass(frozen=True)
class IamCaller:
    secret_key: str
    user_arn: str
    user_id: str
    account_id: str


_SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[A-Z0-9]{16,128})/(?P<scope>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<headers>[a-z0-9;-]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class IamAuthorizer:
    callers: Mapping[str, IamCaller]  # by access key id
    region: str
    service: str = "execute-api"
    clock: Clock = field(default=time.time, compare=False)

    def check(self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes) -> Authorizer | Refusal:
        received = _lower_headers(headers)
        found = _SIGV4.fullmatch(received.get("authorization", "").strip())
        if found is None or "x-amz-date" not in received:
            return Refusal(403, FORBIDDEN)
        caller = self.callers.get(found["key"])
        if caller is None or "x-amz-security-token" in received:  # local credentials are long-term keys
            return Refusal(403, INVALID_TOKEN)
        try:
            signed_at = datetime.strptime(received["x-amz-date"], AMZ_DATE).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return Refusal(403, SIGNATURE_MISMATCH)
        skew = self._skew_message(received["x-amz-date"], signed_at)
        if skew:
            return Refusal(403, skew)
        expected = self.signature(caller.secret_key, method, target, received, found["headers"].split(";"), body)
        if expected is None or not hmac.compare_digest(expected, found["signature"]):
            return Refusal(403, SIGNATURE_MISMATCH)
        return {
            "iam": {
                "accessKey": found["key"],
                "accountId": caller.account_id,
                "callerId": caller.user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": caller.user_arn,
                "userId": caller.user_id,
            }
        }

    def signature(
        self,
        secret_key: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        signed_headers: Sequence[str],
        body: bytes,
    ) -> str | None:
        """The signature botocore computes for this request as received (None when it cannot be rebuilt)."""
        if "host" not in signed_headers or any(name not in headers for name in signed_headers):
            return None
        if "x-amz-content-sha256" in headers and headers["x-amz-content-sha256"] != hashlib.sha256(body).hexdigest():
            return None  # botocore would trust the header; the body is what was sent
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{target}",  # path and query as received: botocore canonicalizes them
            data=body,
            headers={name: headers[name] for name in signed_headers},
        )
        request.context["timestamp"] = headers["x-amz-date"]
        auth = SigV4Auth(Credentials("-", secret_key), self.service, self.region)
        if sorted(auth.headers_to_sign(request)) != sorted(signed_headers):
            return None  # botocore would sign a different header list (it never signs user-agent, for one)
        canonical = auth.canonical_request(request)
        return str(auth.signature(auth.string_to_sign(request, canonical), request))

    def _skew_message(self, amz_date: str, signed_at: float) -> str | None:
        now = self.clock()
        at = datetime.fromtimestamp(now, UTC).strftime(AMZ_DATE)
        if signed_at < now - MAX_CLOCK_SKEW_SECONDS:
            limit = datetime.fromtimestamp(now - MAX_CLOCK_SKEW_SECONDS, UTC).strftime(AMZ_DATE)
            return f"Signature expired: {amz_date} is now earlier than {limit} ({at} - 5 min.)"
        if signed_at > now + MAX_CLOCK_SKEW_SECONDS:
            limit = datetime.fromtimestamp(now + MAX_CLOCK_SKEW_SECONDS, UTC).strftime(AMZ_DATE)
            return f"Signature not yet current: {amz_date} is still later than {limit} ({at} + 5 min.)"
        return None


def _lower_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Names lower-cased, repeated headers comma-joined (as SigV4's canonical headers join them)."""
    joined: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        value = " ".join(value.strip().split())
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined
