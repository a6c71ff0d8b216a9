"""SnapStart's runtime hooks (functions/paddle_portal/snapstart.py) on the real handler: nothing secret or connected
survives into a snapshot, and a restored environment re-reads the secret and opens a new connection to Paddle. A fake
of the runtime's hook library records what the function registers; the test plays Lambda: init, snapshot, restore."""

from __future__ import annotations

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
from tests.events import load_event
from tests.faultserver import FaultServer
from tests.support import LambdaContext, SecretsManagerCalls


class FakeHookLibrary(types.ModuleType):
    """Stands in for `snapshot_restore_py`, which only SnapStart-capable Lambda runtimes have."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before_snapshot: list[Callable[[], Any]] = []
        self.after_restore: list[Callable[[], Any]] = []
        self.register_before_snapshot = self.before_snapshot.append
        self.register_after_restore = self.after_restore.append

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

    return lambda: int(lambda_handler(load_event("http_api/post_portal_sessions_iam.json"), context)["statusCode"])


def test_a_snapshot_holds_no_key_or_connection_and_a_restored_environment_starts_afresh(hooks, call, aws, server):
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    # Given an environment that served two requests: one secret read, one keep-alive connection
    assert [call(), call()] == [201, 201]
    assert (aws.get_secret_value, server.connections) == (1, 1)

    # When Lambda snapshots it
    hooks.snapshot()

    # Then nothing holds the key or a pooled connection: dependencies (secret sources, Paddle client), the pool,
    # Powertools' providers (cached values, boto3 client) are all gone
    assert (wiring.dependencies_for.cache_info().currsize, wiring.pool.cache_info().currsize) == (0, 0)
    assert not DEFAULT_PROVIDERS

    # When a new environment resumes from the snapshot, with the random state every copy shares
    random.seed(1234)
    shared = random.getstate()
    hooks.restore()

    # Then its backoff jitter follows its own sequence, it reads the secret again and connects anew
    assert random.getstate() != shared
    assert call() == 201
    assert aws.get_secret_value == 2
    assert [r.connection for r in server.requests] == [1, 1, 2]


FAKE_RUNTIME_LIBRARY = """
before, after = [], []
def register_before_snapshot(hook, *args, **kwargs):
    before.append(hook.__name__)
def register_after_restore(hook, *args, **kwargs):
    after.append(hook.__name__)
"""


def test_importing_the_handler_registers_the_hooks(tmp_path):
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

    # Then the hooks are registered on both sides of the snapshot: modules preloaded and state forgotten before it,
    # state forgotten and randomness re-seeded after it
    assert completed.stdout.strip() == "['preload', 'forget_environment_state'] ['forget_environment_state', 'reseed']"
