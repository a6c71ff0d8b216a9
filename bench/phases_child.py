"""One fresh process for `python -m bench.phases`: the stack's imports, then ours, then the first invocation, each
part timed, with the time it spent blocked on the network (bench/child.py's socket timers).

Run as `python -S -P bench/phases_child.py CONFIG_JSON` in the environment bench/__main__.py gives a child.
"""

import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -P: the script's folder is not on sys.path
import child  # installs the socket timers before anything imports socket or ssl

STACK = "stack imports"  # what the stack floor imports (bench/stack_floor/stack.py)
OURS = "our modules"  # importing the handler once the stack is imported
FIRST = "1st invocation"
POOL = "SSL context + pool"  # to Paddle
KEY_READ = "secret read"
PADDLE = "Paddle request"  # its connection included
IMPORTS = "… boto3 (and Parameters) imported"  # ours: what the secret read leaves once its client and call are out
CLIENT = "… boto3 client built"
CALL = "… GetSecretValue"  # botocore's first request, over a new connection
REST = "rest of the 1st invocation"  # what the parts that do not overlap (pool, secret, Paddle) leave
# Parts of the first invocation, by the function that does them: (module, attribute path, label, label for the
# `get` of what it returns). A name that no longer exists is skipped (the part then counts as the rest).
PARTS = (
    ("paddle_portal.wiring", "pool", POOL, None),
    ("paddle_portal.secrets", "SecretSource.get", KEY_READ, None),
    ("paddle_portal.secrets", "_bounded_provider", CLIENT, CALL),  # returns Powertools' SecretsProvider
    ("paddle_portal.paddle.client", "PaddleClient._send", PADDLE, None),
)


def _network_ms() -> float:
    return child._network_ns / 1e6


def _timed(parts: dict[str, list[float]], function, label: str, result_label: str | None = None):
    def timed(*args, **kwargs):
        network, started = _network_ms(), time.perf_counter()
        try:
            result = function(*args, **kwargs)
        finally:
            part = parts.setdefault(label, [0.0, 0.0])
            part[0] += (time.perf_counter() - started) * 1000
            part[1] += _network_ms() - network
        if result_label is not None and callable(getattr(result, "get", None)):
            result.get = _timed(parts, result.get, result_label)
        return result

    return timed


def _wrap(parts: dict[str, list[float]], module_name: str, path: str, label: str, result_label: str | None) -> None:
    owner = importlib.import_module(module_name)
    *outer, name = path.split(".")
    for attribute in outer:
        owner = getattr(owner, attribute, None)
    function = getattr(owner, name, None)
    if function is not None:
        setattr(owner, name, _timed(parts, function, label, result_label))


def main() -> None:
    config = json.loads(sys.argv[1])
    module_name, _, attribute = config["handler"].rpartition(".")

    started = time.perf_counter()
    # What the stack floor imports (bench/stack_floor/stack.py), without its SSL context, pool and boto3 client.
    import urllib3  # noqa: F401
    from aws_lambda_powertools import Logger, Metrics, Tracer  # noqa: F401
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model  # noqa: F401

    Tracer(auto_patch=False)  # imports aws_xray_sdk.core, as the floor's Tracer does
    stack = time.perf_counter()
    if module_name == "stack":  # a stack floor: its own work, part by part, in the order stack.py does it
        result = {STACK: [(stack - started) * 1000, 0.0], **_floor_parts()}
    else:
        result = _project_parts(config, module_name, attribute, started, stack)
    with open(config["result"], "w") as out:
        json.dump(result, out)
    os._exit(0)


def _floor_parts() -> dict[str, list[float]]:
    """bench/stack_floor/stack.py's work after its imports: the SSL context and pool and, on the boto3 path, boto3
    imported and a Secrets Manager client built (what the project's secret read also does)."""
    import ssl

    import urllib3

    started = time.perf_counter()
    urllib3.PoolManager(num_pools=2, maxsize=4, ssl_context=ssl.create_default_context(), retries=False)
    pooled = time.perf_counter()
    parts = {POOL: [(pooled - started) * 1000, 0.0]}
    if os.environ.get("STACK_FLOOR_BOTO3", "1") == "1":
        import boto3

        imported = time.perf_counter()
        boto3.client("secretsmanager")
        built = time.perf_counter()
        parts[IMPORTS] = [(imported - pooled) * 1000, 0.0]
        parts[CLIENT] = [(built - imported) * 1000, 0.0]
    return parts


def _project_parts(
    config: dict, module_name: str, attribute: str, started: float, stack: float
) -> dict[str, list[float]]:
    event = json.loads(open(config["event"], "rb").read())  # noqa: SIM115
    os.environ["_X_AMZN_TRACE_ID"] = child._trace_header(1, True)
    context = child.LambdaContext("00000000-0000-4000-8000-000000000001")
    handler = getattr(importlib.import_module(module_name), attribute)
    ours = time.perf_counter()

    parts: dict[str, list[float]] = {}
    for part in PARTS:
        _wrap(parts, *part)
    network = _network_ms()
    before = time.perf_counter()
    response = handler(event, context)
    first = (time.perf_counter() - before) * 1000
    if not child._ok(response):
        raise RuntimeError(f"first invocation failed: {str(response)[:300]}")
    if CLIENT in parts and CALL in parts:  # the boto3 path: the secret read's imports are what its parts leave
        read, client, call = parts[KEY_READ], parts.pop(CLIENT), parts.pop(CALL)
        parts[IMPORTS] = [read[0] - client[0] - call[0], read[1] - client[1] - call[1]]
        parts[CLIENT], parts[CALL] = client, call
        parts[PADDLE] = parts.pop(PADDLE)
    first_part = [first, _network_ms() - network]
    top_level = [parts[label] for label in (POOL, KEY_READ, PADDLE) if label in parts]
    rest = [first_part[0] - sum(p[0] for p in top_level), first_part[1] - sum(p[1] for p in top_level)]
    return {
        STACK: [(stack - started) * 1000, 0.0],
        OURS: [(ours - stack) * 1000, 0.0],
        FIRST: first_part,
        **parts,
        REST: rest,
    }


if __name__ == "__main__":
    main()
