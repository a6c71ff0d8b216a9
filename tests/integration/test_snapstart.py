"""SnapStart's runtime hooks (functions/paddle_portal/snapstart.py) on the real handler: nothing secret or connected
survives into a snapshot, and a restored environment re-reads the secret and opens a new connection to Paddle.

The runtime's hook library is replaced by a fake that records what the function registers; the test then plays
Lambda: init, snapshot (before-snapshot hooks, in reverse order of registration), restore (after-restore hooks, in
order), invoke.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paddle_portal import snapstart, wiring
from tests.conftest import load_event
from tests.faultserver import FaultServer
from tests.support import LambdaContext, SecretsManagerCalls


class FakeHookLibrary(types.ModuleType):
    """Stands in for `snapshot_restore_py`, which only SnapStart-capable Lambda runtimes have."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before_snapshot: list[Callable[[], Any]] = []
        self.after_restore: list[Callable[[], Any]] = []

    def register_before_snapshot(self, hook: Callable[[], Any]) -> None:
        self.before_snapshot.append(hook)

    def register_after_restore(self, hook: Callable[[], Any]) -> None:
        self.after_restore.append(hook)

    def snapshot(self) -> None:
        for hook in reversed(self.before_snapshot):  # Lambda runs these in the reverse order of registration
            hook()

    def restore(self) -> None:
        for hook in self.after_restore:
            hook()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> FakeHookLibrary:
    library = FakeHookLibrary()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", library)
    assert snapstart.register()  # what importing the function does in a SnapStart runtime
    return library


@pytest.fixture
def call(aws: SecretsManagerCalls, server: FaultServer, context: LambdaContext) -> Callable[[], int]:
    from paddle_portal.app import lambda_handler

    def invoke() -> int:
        response = lambda_handler(load_event("http_api/post_portal_sessions_iam.json"), context)
        assert json.loads(response["body"])["data"]["id"], response
        return int(response["statusCode"])

    return invoke


def test_without_the_runtimes_hook_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # makes the import fail, as outside Lambda
    assert snapstart.register() is False


def test_the_function_registers_hooks_on_both_sides_of_the_snapshot(hooks: FakeHookLibrary) -> None:
    assert snapstart.forget_environment_state in hooks.before_snapshot
    assert hooks.after_restore == [snapstart.forget_environment_state, snapstart.reseed]


def test_a_restored_environment_rereads_the_secret_and_opens_a_new_connection(
    hooks: FakeHookLibrary, call: Callable[[], int], aws: SecretsManagerCalls, server: FaultServer
) -> None:
    # Given an environment that served two requests: one secret read, one keep-alive connection
    assert call() == 201
    assert call() == 201
    assert aws.get_secret_value == 1
    assert server.connections == 1

    # When Lambda snapshots it and resumes a new environment from the snapshot
    hooks.snapshot()
    hooks.restore()
    assert call() == 201

    # Then the restored environment read the secret again and connected anew (the snapshot's peer is long gone)
    assert aws.get_secret_value == 2
    assert server.connections == 2
    assert [r.connection for r in server.requests] == [1, 1, 2]


def test_no_api_key_and_no_connection_is_left_in_a_snapshot(
    hooks: FakeHookLibrary, call: Callable[[], int], aws: SecretsManagerCalls
) -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    # Given an environment that has read the key (a change to init code could make this happen before a snapshot)
    assert call() == 201
    assert wiring.dependencies_for.cache_info().currsize == 1
    assert DEFAULT_PROVIDERS

    # When the before-snapshot hooks run
    hooks.snapshot()

    # Then nothing holds the key or a pooled connection: dependencies (secret sources, Paddle client), the pool,
    # Powertools' providers (cached values, boto3 client) are all gone
    assert wiring.dependencies_for.cache_info().currsize == 0
    assert wiring.pool.cache_info().currsize == 0
    assert not DEFAULT_PROVIDERS
    # and the before-snapshot hooks loaded what the first request would import (no client built)
    assert "aws_lambda_powertools.utilities.parameters" in sys.modules


def test_each_restored_environment_draws_its_own_random_numbers(hooks: FakeHookLibrary) -> None:
    # Given the random state every copy of one snapshot would share
    random.seed(1234)
    shared = random.getstate()

    # When an environment is restored
    hooks.restore()

    # Then its backoff jitter no longer follows the snapshot's sequence
    assert random.getstate() != shared


FAKE_RUNTIME_LIBRARY = """
before, after = [], []
def register_before_snapshot(hook, *args, **kwargs):
    before.append(hook.__name__)
def register_after_restore(hook, *args, **kwargs):
    after.append(hook.__name__)
"""


def test_importing_the_handler_registers_the_hooks(tmp_path: Any) -> None:
    # Given a SnapStart runtime's hook library on the path (a fresh interpreter: nothing imported yet)
    (tmp_path / "snapshot_restore_py.py").write_text(FAKE_RUNTIME_LIBRARY)
    repo = Path(__file__).resolve().parents[2]
    script = "import paddle_portal.app, snapshot_restore_py as s; print(s.before, s.after)"

    # When the runtime imports the handler module
    completed = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(repo / "functions")])},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    # Then the hooks are registered on both sides of the snapshot
    assert "forget_environment_state" in completed.stdout
    assert completed.stdout.strip().endswith("['forget_environment_state', 'reseed']")
