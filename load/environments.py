"""Execution environments for the load test: worker processes that each import the real handler once and take one
invocation at a time, as Lambda runs one invocation per environment; the pool hands an event to a free one."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from local.server import FAKE_API_KEY, FAKE_LINK_KEYS, LINK_SECRET_NAME, REGION, SECRET_NAME

WAIT_FOR_ENVIRONMENT_SECONDS = 10.0


def _worker(conn: Connection, environ: dict[str, str]) -> None:
    """One execution environment: its own moto Secrets Manager, the handler imported once, then invocations."""
    os.environ.update(environ)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - metrics (EMF) lines; the table says what happened
    import boto3
    import moto

    moto.mock_aws().start()
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name=SECRET_NAME, SecretString=json.dumps({"api_key": FAKE_API_KEY}))
    secrets.create_secret(Name=LINK_SECRET_NAME, SecretString=json.dumps(FAKE_LINK_KEYS))
    import logging

    logging.disable(logging.CRITICAL)
    from local.gateway import LambdaContext
    from paddle_portal import wiring
    from paddle_portal.app import lambda_handler

    conn.send("ready")
    while True:
        message = conn.recv()
        if message is None:
            return
        if message == "reset":  # a new scenario: a cold environment's budgets
            wiring.reset()
            conn.send("ok")
            continue
        try:
            conn.send(lambda_handler(message, LambdaContext()))
        except Exception as exc:  # a direct invoker's error; never expected on the HTTP path
            conn.send({"statusCode": 500, "body": type(exc).__name__})


class EnvironmentPool:
    """`handler(event, context)` for the local gateway: runs the event in a free environment."""

    def __init__(self, size: int, environ: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[Connection] = queue.Queue()
        self._all: list[tuple[Any, Connection]] = []
        for _ in range(size):
            parent, child = context.Pipe()
            process = context.Process(target=_worker, args=(child, environ), daemon=True)
            process.start()
            self._all.append((process, parent))
        for _, conn in self._all:
            if conn.recv() != "ready":
                raise RuntimeError("an environment did not start")
            self._idle.put(conn)
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        conn = self._idle.get(timeout=WAIT_FOR_ENVIRONMENT_SECONDS)  # Lambda would refuse; here the request waits
        try:
            conn.send(event)
            return conn.recv()
        finally:
            self._idle.put(conn)

    def reset(self) -> None:
        for _, conn in self._all:
            conn.send("reset")
            conn.recv()

    def close(self) -> None:
        for process, conn in self._all:
            with contextlib.suppress(OSError):
                conn.send(None)
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
