"""One fresh process = one execution environment: import the handler, invoke it once (cold), then warm.

Run by bench/__main__.py as `python -S -P bench/child.py CONFIG_JSON`, with PYTHONPATH = function dir, layer dir,
runtime dir (Lambda's order: /var/task, /opt/python, the runtime's site-packages) and the environment Lambda sets.
Standard library only: nothing may be imported here before the handler that the handler would import itself,
except what the Lambda runtime's bootstrap has already imported when it loads a handler.
"""

# What the python3.13 runtime's bootstrap (awslambdaric) has imported when it imports the handler. It does not
# import socket, ssl or http.client (its runtime API client is native), so neither does this driver.
import decimal  # noqa: F401
import enum  # noqa: F401
import importlib
import json
import logging  # noqa: F401
import math  # noqa: F401
import os
import sys
import time
import traceback
import warnings  # noqa: F401
from importlib.machinery import PathFinder

# --- Time spent waiting on the network, so the warm figure can exclude it. -------------------------------------
# Every blocking socket operation is timed; nested calls (SSLSocket.sendall -> send) count once. The methods are
# wrapped when the handler first imports socket or ssl, so importing them stays part of the measured cold start.
_network_ns = 0
_depth = 0
_WRAPPED = {
    "socket": ("socket", ("connect", "send", "sendall", "sendto", "recv", "recv_into")),
    "ssl": ("SSLSocket", ("do_handshake", "send", "sendall", "recv", "recv_into", "read", "write")),
}


def _timed(method):
    def wrapper(*args, **kwargs):
        global _network_ns, _depth
        if _depth:
            return method(*args, **kwargs)
        _depth = 1
        started = time.perf_counter_ns()
        try:
            return method(*args, **kwargs)
        finally:
            _network_ns += time.perf_counter_ns() - started
            _depth = 0

    return wrapper


class _WrapOnImport:
    """A meta path finder that wraps the socket methods right after `socket` / `ssl` is first executed."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in _WRAPPED:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader_exec = spec.loader.exec_module

        def exec_module(module):
            loader_exec(module)
            class_name, methods = _WRAPPED[name]
            cls = getattr(module, class_name)
            for method in methods:
                setattr(cls, method, _timed(getattr(cls, method)))

        spec.loader.exec_module = exec_module
        return spec


if "socket" in sys.modules or "ssl" in sys.modules:
    raise RuntimeError("the driver must not import socket or ssl itself: the handler's cold start would lose them")
sys.meta_path.insert(0, _WrapOnImport)


class LambdaContext:
    """The attributes awslambdaric's context has."""

    function_name = "paddle-portal-bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:paddle-portal-bench"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/paddle-portal-bench"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    identity = None
    client_context = None

    def __init__(self, request_id, timeout_seconds=15.0):
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return int(max(self._deadline - time.monotonic(), 0) * 1000)


def _trace_header(n, sampled):
    return f"Root=1-67000000-{n:024x};Parent={n:016x};Sampled={1 if sampled else 0};Lineage=1:abcdef12:0"


def _ok(response):
    if isinstance(response, dict) and "statusCode" in response:
        return 200 <= int(response["statusCode"]) < 400
    return response is not None


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _p50_excluding_network(function, count):
    for _ in range(20):  # warm-up: pools connected, caches filled
        function()
    samples = []
    for _ in range(count):
        network_before = _network_ns
        before = time.perf_counter_ns()
        function()
        samples.append(time.perf_counter_ns() - before - (_network_ns - network_before))
    return _percentile(samples, 0.5) / 1000


def components(count, sampled):
    """What the building blocks of a warm invocation cost here, excluding the network (libraries only, so the
    figures stay comparable whatever the project's code becomes). Run in the project's artifact, after its handler
    was imported and invoked once."""
    import http.client
    import ssl
    from urllib.parse import urlsplit

    import urllib3
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

    base = os.environ["PADDLE_API_BASE_URL"]
    path = "/customers/ctm_01gysfvfy7vqhpzkq8rjmrq7an/portal-sessions"  # pragma: allowlist secret - an id
    body = b'{"subscription_ids":["sub_01h04vsc0qhwtsbsxh3422wjs4"]}'
    headers = {
        "Authorization": "Bearer pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_AAA",
        "Paddle-Version": "1",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "paddle-portal-bench",
    }
    context = ssl.create_default_context()
    manager = urllib3.PoolManager(ssl_context=context, retries=False)
    pool = manager.connection_from_url(base)
    parts = urlsplit(base)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context)

    def pool_manager():
        manager.request("POST", base + path, body=body, headers=headers).data  # noqa: B018 - read the body

    def connection_pool():
        pool.urlopen("POST", path, body=body, headers=headers, retries=False).data  # noqa: B018

    def bare_http_client():
        connection.request("POST", path, body=body, headers=headers)
        connection.getresponse().read()

    logger, tracer, metrics = Logger(service="bench-components"), Tracer(auto_patch=False), Metrics()

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def empty_handler(event, context):
        metrics.add_metric(name="Calls", unit="Count", value=1)
        return {}

    @tracer.capture_method(capture_response=False)
    def traced():
        return None

    def log_line():
        logger.info(
            "Portal session created",
            customer_id="ctm_01gysfvfy7vqhpzkq8rjmrq7an",
            subscription_count=1,
            session_id="cpls_01h4ge9r64c22exjsx0fy8b48b",
            paddle_request_id="5f3b2a9e",
            attempts=1,
            latency_ms=8.2,
        )

    event = json.loads(open(os.environ["BENCH_EVENT"], "rb").read())  # noqa: SIM115
    os.environ["_X_AMZN_TRACE_ID"] = _trace_header(99, sampled)
    return {
        "urllib3 PoolManager.request, keep-alive TLS POST": _p50_excluding_network(pool_manager, count),
        "urllib3 HTTPSConnectionPool.urlopen, same request": _p50_excluding_network(connection_pool, count),
        "http.client, same request (no pool, no retries)": _p50_excluding_network(bare_http_client, count),
        "Powertools Logger+Tracer+Metrics decorators, empty handler, 1 metric": _p50_excluding_network(
            lambda: empty_handler({}, LambdaContext("00000000-0000-4000-8000-000000000099")), count
        ),
        "Powertools Logger.info, one line with 6 keys": _p50_excluding_network(log_line, count),
        "Powertools Tracer.capture_method (one X-Ray subsegment)": _p50_excluding_network(traced, count),
        "Powertools APIGatewayProxyEventV2Model.model_validate(event)": _p50_excluding_network(
            lambda: APIGatewayProxyEventV2Model.model_validate(event), count
        ),
    }


def main():
    config = json.loads(sys.argv[1])
    raw_event = open(config["event"], "rb").read()  # noqa: SIM115 - read once, before timing
    module_name, _, attribute = config["handler"].rpartition(".")
    sampled = config.get("xray_sampled", True)
    result = {"ok": False}
    try:
        os.environ["_X_AMZN_TRACE_ID"] = _trace_header(1, sampled)
        event, context = json.loads(raw_event), LambdaContext("00000000-0000-4000-8000-000000000001")
        cold_profiler = None
        if config.get("cold_profile"):  # where a cold start goes (bench --profile): not a timed run
            import cProfile

            cold_profiler = cProfile.Profile()
            cold_profiler.enable()
        started = time.perf_counter()
        handler = getattr(importlib.import_module(module_name), attribute)
        imported = time.perf_counter()
        network_before_first_call = _network_ns
        response = handler(event, context)
        invoked = time.perf_counter()
        first_call_network_ns = _network_ns - network_before_first_call
        if cold_profiler is not None:
            cold_profiler.disable()
            cold_profiler.dump_stats(config["cold_profile"])
        if not _ok(response):
            raise RuntimeError(f"first invocation failed: {str(response)[:300]}")
        result.update(
            # perf_counter is CLOCK_MONOTONIC, one clock for every process: the parent's spawn time is comparable.
            process_start_ms=(started - config["spawned"]) * 1000,
            import_ms=(imported - started) * 1000,
            first_invoke_ms=(invoked - imported) * 1000,
            # Blocked in socket calls during the first invocation: the secret read and the Paddle call (connect, TLS
            # handshake, request, answer), which the stack floors do not make.
            first_call_network_ms=first_call_network_ns / 1e6,
            cold_ms=(invoked - config["spawned"]) * 1000,
            modules=len(sys.modules),
        )
        overheads, totals = [], []
        profiler = None
        if config.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for n in range(2, 2 + config.get("warm", 0)):
            os.environ["_X_AMZN_TRACE_ID"] = _trace_header(n, sampled)
            event, context = json.loads(raw_event), LambdaContext(f"00000000-0000-4000-8000-{n:012d}")
            network_before = _network_ns
            before = time.perf_counter_ns()
            response = handler(event, context)
            elapsed = time.perf_counter_ns() - before
            if not _ok(response):
                raise RuntimeError(f"warm invocation {n} failed: {str(response)[:300]}")
            totals.append(elapsed)
            overheads.append(elapsed - (_network_ns - network_before))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(config["profile"])
        if config.get("components"):
            os.environ["BENCH_EVENT"] = config["event"]
            result["components"] = components(config["components"], sampled)
        if overheads:
            result.update(
                warm_count=len(overheads),
                warm_p50_us=_percentile(overheads, 0.5) / 1000,
                warm_p99_us=_percentile(overheads, 0.99) / 1000,
                warm_total_p50_us=_percentile(totals, 0.5) / 1000,
            )
        result["ok"] = True
    except BaseException as exc:  # report anything, including SystemExit from a broken handler
        result["error"] = "".join(traceback.format_exception(exc))[-4000:]
    with open(config["result"], "w") as out:
        json.dump(result, out)
    sys.stdout.flush()
    # Skip interpreter teardown: Lambda never tears an environment down this way, and it is not part of any figure.
    os._exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
