"""uv.lock is the one record of every Python dependency, and the Lambda layer ships exactly what it says:
layers/dependencies/requirements.txt (what `sam build` installs into the layer, pip checking the hashes) is exported
from uv.lock by `make lock`. These tests fail when the two disagree, e.g. a lock update not re-exported."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "layers" / "dependencies"
SDK = ("boto3", "botocore", "s3transfer", "urllib3")  # one copy each, ours, in production as in the suite
PROJECT = "paddle-portal"
# Where the layer runs: python3.13 on arm64 Linux, no dependency group active (uv writes the project's side of the
# declared checkov conflict as this extra).
LAMBDA = {
    "python_version": "3.13", "python_full_version": "3.13.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "platform_machine": "aarch64", "platform_system": "Linux",
    "sys_platform": "linux", "os_name": "posix", "extra": f"project-{len(PROJECT)}-{PROJECT}",
}  # fmt: skip
Locked = dict[str, tuple[str, frozenset[str]]]  # name -> (version, hashes)


@pytest.fixture(scope="module")
def lock() -> dict[str, Any]:
    return tomllib.loads((REPO / "uv.lock").read_text())


def _hashes(package: dict[str, Any]) -> frozenset[str]:
    return frozenset(file["hash"] for file in [*package.get("wheels", []), *filter(None, [package.get("sdist")])])


def runtime_closure(lock: dict[str, Any]) -> Locked:
    """The project's own dependencies (not its groups) and all they pull in on Lambda."""
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    applies = list(packages[PROJECT][0].get("dependencies", []))
    found: Locked = {}
    while applies:
        dependency = applies.pop()
        if "marker" in dependency and not Marker(dependency["marker"]).evaluate(LAMBDA):
            continue
        [package] = [p for p in packages[dependency["name"]] if p["version"] == dependency.get("version", p["version"])]
        found[package["name"]] = (package["version"], _hashes(package))
        applies += package.get("dependencies", [])
        extras = package.get("optional-dependencies", {})
        applies += [d for extra in dependency.get("extra", []) for d in extras.get(extra, [])]
    return found


def layer_requirements() -> Locked:
    """name==version lines with their --hash continuations, as `uv export` writes them."""
    text = "\n".join(line for line in (LAYER / "requirements.txt").read_text().splitlines() if not line.startswith("#"))
    found: Locked = {}
    for entry in filter(None, (entry.strip() for entry in re.split(r"\n(?=[A-Za-z0-9])", text))):
        pin = re.match(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)", entry)
        assert pin, f"not a pinned requirement: {entry.splitlines()[0]}"
        hashes = frozenset(re.findall(r"--hash=(sha256:\w{64})", entry))
        found[canonicalize_name(pin["name"])] = (pin["version"], hashes)
    return found


def test_the_layer_ships_exactly_the_locked_runtime_dependencies_with_their_hashes(lock: dict[str, Any]) -> None:
    locked, layer = runtime_closure(lock), layer_requirements()
    assert {"aws-lambda-powertools", "pydantic-core", *SDK} <= set(locked)
    stale = sorted(name for name in set(locked) | set(layer) if layer.get(name) != locked.get(name))
    assert not stale, f"layers/dependencies/requirements.txt differs from uv.lock: run `make lock`. {stale}"
    # pip runs in hash-checking mode: the arm64 cp313 wheel of each compiled package must be among the hashes
    [core] = [p for p in lock["package"] if p["name"] == "pydantic-core"]
    arm64 = {w["hash"] for w in core["wheels"] if re.search(r"cp313-cp313-manylinux_\S*aarch64", w["url"])}
    assert arm64
    assert arm64 <= layer["pydantic-core"][1]


def test_the_sdk_ships_in_the_layer_at_the_versions_the_suite_runs(lock: dict[str, Any]) -> None:
    locked = runtime_closure(lock)
    assert {name: version(name) for name in SDK} == {name: locked[name][0] for name in SDK}
    # ... and the layer's Makefile keeps all of them (LEAVE_OUT is only for bench/'s comparison)
    assert re.findall(r"^LEAVE_OUT \?=(.*)$", (LAYER / "Makefile").read_text(), flags=re.MULTILINE) == [""]


def test_every_locked_package_from_the_index_carries_sha256_hashes(lock: dict[str, Any]) -> None:
    indexed = [p for p in lock["package"] if "registry" in p["source"]]
    assert [p["name"] for p in indexed if not _hashes(p)] == []
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for p in indexed for h in _hashes(p))
