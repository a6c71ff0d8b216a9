"""The built artifact laid out as Lambda lays it out, run by aarch64 CPython 3.13 under qemu-user through awslambdaric.

`.aws-sam/build` is what `sam build` (make build) wrote: the function (PortalFunction) and the dependencies layer. A
per-run root maps the emulated machine's paths (`qemu-aarch64-static -L ROOT`): `/usr`, `/lib`, `/etc` are the aarch64
Python root `make deps-artifact` builds from Debian's arm64 packages; `/var/task` a copy of the function, `/opt` of the
layer, `/var/runtime` awslambdaric. Files get SAM's zip time (1980) and the process writes no bytecode, as on Lambda
(read-only /var/task and /opt): only bytecode that validates whatever the file times are (checked-hash) is used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.artifacts import reset_times
from tests.template import TEMPLATE, load_template

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / ".aws-sam" / "build"
FUNCTION_BUILD, LAYER_BUILD = BUILD / "PortalFunction", BUILD / "DependenciesLayer"
AARCH64_ROOT, AWSLAMBDARIC = REPO / ".venv" / "tools" / "aarch64-python", REPO / ".venv" / "tools" / "awslambdaric"
QEMU = "qemu-aarch64-static"
# The python3.13 runtime's module search path, before the standard library (docs/design.md, "One SDK").
LAMBDA_PATH = ("/var/task", "/opt/python/lib/python3.13/site-packages", "/opt/python",
               "/var/lang/lib/python3.13/site-packages", "/var/runtime")  # fmt: skip


def handler(template: Path = BUILD / "template.yaml") -> str:
    """The Handler of PortalFunction in a template (the built one: what Lambda will be told to load)."""
    return str(load_template(template)["Resources"]["PortalFunction"]["Properties"]["Handler"])


def missing() -> str | None:
    """What this machine lacks to run the tier (None: nothing)."""
    if shutil.which(QEMU) is None:
        return f"no {QEMU} (Debian package qemu-user-static)"
    for what, root in (("aarch64 Python root", AARCH64_ROOT), ("aarch64 awslambdaric", AWSLAMBDARIC)):
        if not (root / ".complete").is_file():
            return f"no {what} in {root.relative_to(REPO)}"
    return None


def stale_build() -> str | None:
    """Why .aws-sam/build is not the build of the working tree's function (None: it is)."""
    if not (FUNCTION_BUILD / "paddle_portal").is_dir() or not (LAYER_BUILD / "python").is_dir():
        return "no sam build output in .aws-sam/build"
    if handler() != handler(TEMPLATE):
        return "the built template's Handler differs from template.yaml's"
    source, built = REPO / "functions" / "paddle_portal", FUNCTION_BUILD / "paddle_portal"
    names = {p.relative_to(source) for p in source.rglob("*.py")}
    if names != {p.relative_to(built) for p in built.rglob("*.py")}:
        return "the built function's modules differ from functions/paddle_portal"
    if any((source / name).read_bytes() != (built / name).read_bytes() for name in names):
        return "a built module differs from its source in functions/paddle_portal"
    return None


def ensure_build(log: Path) -> None:
    """`make build` when .aws-sam/build is missing or not the build of the function's sources."""
    if stale_build() is None:
        return
    with log.open("wb") as out:
        completed = subprocess.run(["make", "--no-print-directory", "build"], cwd=REPO, stdout=out, stderr=out)  # noqa: S607
    if completed.returncode != 0 or (reason := stale_build()) is not None:
        raise RuntimeError(f"make build failed ({completed.returncode}) or left {reason}: see {log}")


def lay_out(root: Path) -> Path:
    """The emulated machine's file system under `root`: the Python root linked, the artifact copied."""
    for name in ("usr", "etc"):
        (root / name).symlink_to(AARCH64_ROOT / name)
    (root / "lib").symlink_to("usr/lib")
    for source, target in ((FUNCTION_BUILD, "var/task"), (LAYER_BUILD, "opt"), (AWSLAMBDARIC, "var/runtime")):
        shutil.copytree(source, root / target, symlinks=True)
    (root / "var" / "lang" / "lib" / "python3.13" / "site-packages").mkdir(parents=True)
    (root / "tmp").mkdir()
    for artifact in (root / "var" / "task", root / "opt"):
        reset_times(artifact)  # as Lambda unpacks SAM's zip
    return root


def command(root: Path, *args: str) -> list[str]:
    """argv running the emulated Python 3.13 (`args` after the interpreter)."""
    return [QEMU, "-L", str(root), str(root / "usr" / "bin" / "python3.13"), *args]


def lambda_environment(runtime_api: str, function: dict[str, str]) -> dict[str, str]:
    """What the python3.13 runtime sets (reserved variables), plus the function's own variables."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(LAMBDA_PATH),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only on Lambda: nothing compiled is kept
        "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13", "AWS_LAMBDA_FUNCTION_NAME": "paddle-portal",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        **function,
    }  # fmt: skip
