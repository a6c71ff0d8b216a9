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


def main():
    config = json.loads(sys.argv[1])
    raw_event = open(config["event"], "rb").read()  # noqa: SIM115 - read once, before timing
    module_name, _, attribute = config["handler"].rpartition(".")
    sampled = config.get("xray_sampled", True)
    result = {"ok": False}
    try:
        os.environ["_X_AMZN_TRACE_ID"] = _trace_header(1, sampled)
        event, context = json.loads(raw_event), LambdaContext("00000000-0000-4000-8000-000000000001")
        started = time.perf_counter()
        handler = getattr(importlib.import_module(module_name), attribute)
        imported = time.perf_counter()
        response = handler(event, context)
        invoked = time.perf_counter()
        if not _ok(response):
            raise RuntimeError(f"first invocation failed: {str(response)[:300]}")
        result.update(
            # perf_counter is CLOCK_MONOTONIC, one clock for every process: the parent's spawn time is comparable.
            process_start_ms=(started - config["spawned"]) * 1000,
            import_ms=(imported - started) * 1000,
            first_invoke_ms=(invoked - imported) * 1000,
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
