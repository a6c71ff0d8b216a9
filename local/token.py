"""`python -m local.token [--endpoint URL] [--client-id ID] EMAIL [PASSWORD]`: sign a user in, print their ID token.

For the local run's user pool (`make run` prints the full command; `make token USER=<email>` runs it):
USER_PASSWORD_AUTH against the local Cognito endpoint, unsigned, as a browser signs in. The endpoint defaults to the
local run's (http://127.0.0.1:3002); without `--client-id` the app client is asked of that endpoint. The password
defaults to the demo users' password. `--access` prints the access token instead (it has no email and no custom
attributes: the JWT routes then answer 403, naming the ID token).
"""

from __future__ import annotations

import argparse
import sys

from local.cognito import DEMO_PASSWORD, POOL_NAME, REGION, sign_in

DEFAULT_ENDPOINT = "http://127.0.0.1:3002"  # make run's COGNITO_PORT default


def local_client_id(endpoint: str, region: str = REGION) -> str:
    """The app client of the local run's pool, asked of its endpoint (moto answers the admin calls; no AWS account is
    involved: the credentials are fake)."""
    import boto3

    cognito = boto3.client(
        "cognito-idp",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - fake, for a local endpoint
    )
    pools = [pool["Id"] for pool in cognito.list_user_pools(MaxResults=60)["UserPools"] if pool["Name"] == POOL_NAME]
    for pool_id in pools:
        for client in cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]:
            return str(client["ClientId"])
    raise LookupError(f"no user pool {POOL_NAME} at {endpoint}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="the local Cognito endpoint the banner names")
    parser.add_argument("--client-id", help="the user pool's app client id (default: asked of the endpoint)")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--access", action="store_true", help="print the access token instead of the ID token")
    parser.add_argument("email")
    parser.add_argument("password", nargs="?", default=DEMO_PASSWORD)
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client_id = args.client_id or local_client_id(args.endpoint, args.region)
        result = sign_in(args.endpoint, client_id, args.email, args.password, args.region)
    except ClientError as exc:
        print(f"sign-in refused: {exc.response['Error'].get('Message', '')}", file=sys.stderr)
        return 1
    except (BotoCoreError, LookupError) as exc:
        print(f"cannot reach {args.endpoint} ({exc}); is `make run` running (COGNITO_PORT)?", file=sys.stderr)
        return 1
    print(result["AccessToken" if args.access else "IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
