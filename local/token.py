"""`python -m local.token --endpoint URL --client-id ID EMAIL [PASSWORD]`: sign a user in, print their ID token.

For the local run's user pool (`make run` prints the full command): USER_PASSWORD_AUTH against the local Cognito
endpoint, unsigned, as a browser signs in. The password defaults to the demo users' password. `--access` prints the
access token instead (it has no email and no custom attributes: the JWT routes then answer 403).
"""

from __future__ import annotations

import argparse
import sys

from local.cognito import DEMO_PASSWORD, REGION, sign_in


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--endpoint", required=True, help="the local Cognito endpoint the banner names")
    parser.add_argument("--client-id", required=True, help="the user pool's app client id")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--access", action="store_true", help="print the access token instead of the ID token")
    parser.add_argument("email")
    parser.add_argument("password", nargs="?", default=DEMO_PASSWORD)
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = sign_in(args.endpoint, args.client_id, args.email, args.password, args.region)
    except ClientError as exc:
        print(f"sign-in refused: {exc.response['Error'].get('Message', '')}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"cannot reach {args.endpoint} ({exc}); is `make run` running?", file=sys.stderr)
        return 1
    print(result["AccessToken" if args.access else "IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
