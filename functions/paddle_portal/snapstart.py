"""SnapStart: what must not travel inside a snapshot, and what a restored environment must rebuild.

With `ColdStartMode=snapstart` (template.yaml) Lambda runs the init phase once per published version, snapshots the
memory, and resumes every new execution environment from that copy. Whatever the process held then is shared by
all of them and may be days old: connections (their TCP peers are gone), cached secrets (the key may have been
rotated since, and must never sit in a snapshot), and the random generator's state (every copy would draw the same
backoff jitter). The hooks below drop all of it before the snapshot and again after each restore (twice is cheap,
and the restore side also covers anything an init-time change of this code might cache later); the next invocation
rebuilds what it needs on demand.

`snapshot_restore_py` is the runtime's hook library; outside Lambda, and in a runtime without it, nothing is
registered and the function behaves as on demand.
"""

from __future__ import annotations

import random
from importlib import import_module

# What the first request on the boto3 path imports lazily (secrets.py): cheap to import before the snapshot, where
# it costs nothing at a restore. Only modules: no client, no credentials, no connection is built here.
_PRELOAD = (
    "aws_lambda_powertools.utilities.parameters",
    "botocore.config",
)


def forget_environment_state() -> None:
    """Drop connection pools, cached secrets and settings; the next invocation rebuilds them."""
    from paddle_portal import wiring

    wiring.reset()


def reseed() -> None:
    """A new random state per restored environment (retry jitter must not be identical in every copy)."""
    random.seed()


def preload() -> None:
    for name in _PRELOAD:
        import_module(name)


def register() -> bool:
    """Register the hooks when the runtime offers SnapStart's hook library; True when it did."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found]
    except ImportError:
        return False
    # Before the snapshot, hooks run in the reverse order of registration: state is forgotten, then modules loaded.
    snapshot_restore_py.register_before_snapshot(preload)
    snapshot_restore_py.register_before_snapshot(forget_environment_state)
    # After a restore, in the order of registration.
    snapshot_restore_py.register_after_restore(forget_environment_state)
    snapshot_restore_py.register_after_restore(reseed)
    return True


HOOKS_REGISTERED = register()
