"""uv.lock is the one record of every Python dependency, and the Lambda layer ships exactly what it says.

layers/dependencies/requirements.txt (what `sam build` installs into the layer, with pip checking the hashes) is
exported from uv.lock by `make lock`. These tests read both files and fail when they disagree, e.g. after a
dependency update that changed the lock without re-exporting the layer's requirements.
"""

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
LOCK = REPO / "uv.lock"
LAYER_REQUIREMENTS = REPO / "layers" / "dependencies" / "requirements.txt"
LAYER_MAKEFILE = REPO / "layers" / "dependencies" / "Makefile"
# The SDK and the HTTP library under it: one copy each, ours, in production as in the suite.
SDK = ("boto3", "botocore", "s3transfer", "urllib3")
PROJECT = "paddle-portal"
# Where the layer runs: the python3.13 Lambda runtime on arm64, with no dependency group of the project active.
LAMBDA = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    # uv writes the project's side of a declared conflict (checkov's group against the project) as this extra.
    "extra": f"project-{len(PROJECT)}-{PROJECT}",
}
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")

Locked = dict[str, tuple[str, frozenset[str]]]


@pytest.fixture(scope="module")
def lock() -> dict[str, Any]:
    with LOCK.open("rb") as file:
        return tomllib.load(file)


def _hashes(package: dict[str, Any]) -> frozenset[str]:
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    return frozenset(file["hash"] for file in files)


def _applies(dependency: dict[str, Any]) -> bool:
    return "marker" not in dependency or Marker(dependency["marker"]).evaluate(LAMBDA)


def runtime_closure(lock: dict[str, Any]) -> Locked:
    """The project's own dependencies (not its groups) and all they pull in on Lambda: name -> (version, hashes)."""
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)

    def find(dependency: dict[str, Any]) -> dict[str, Any]:
        candidates = [
            p for p in packages[dependency["name"]] if p["version"] == dependency.get("version", p["version"])
        ]
        assert len(candidates) == 1, f"ambiguous in uv.lock: {dependency}"
        return candidates[0]

    (root,) = packages[PROJECT]
    found: Locked = {}
    pending = [dep for dep in root.get("dependencies", []) if _applies(dep)]
    while pending:
        dependency = pending.pop()
        package = find(dependency)
        found[package["name"]] = (package["version"], _hashes(package))
        pending += [dep for dep in package.get("dependencies", []) if _applies(dep)]
        for extra in dependency.get("extra", []):
            pending += [dep for dep in package.get("optional-dependencies", {}).get(extra, []) if _applies(dep)]
    return found


def read_requirements(text: str) -> Locked:
    """name==version lines with their --hash continuations, as `uv export` writes them."""
    found: Locked = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", "\n".join(line for line in text.splitlines() if not line.startswith("#")))
    for entry in filter(None, (entry.strip() for entry in entries)):
        match = REQUIREMENT.match(entry)
        assert match, f"not a pinned requirement: {entry.splitlines()[0]}"
        found[canonicalize_name(match["name"])] = (match["version"], frozenset(HASH.findall(entry)))
    return found


def test_the_layer_ships_exactly_the_locked_runtime_dependencies(lock: dict[str, Any]) -> None:
    locked = runtime_closure(lock)
    layer = read_requirements(LAYER_REQUIREMENTS.read_text())
    assert {"aws-lambda-powertools", "pydantic-core", "urllib3"} <= set(locked)
    stale = sorted(name for name in set(locked) | set(layer) if layer.get(name) != locked.get(name))
    assert not stale, f"{LAYER_REQUIREMENTS.relative_to(REPO)} differs from uv.lock: run `make lock`. {stale}"


def test_the_sdk_ships_in_the_layer_at_the_versions_the_suite_runs(lock: dict[str, Any]) -> None:
    locked = runtime_closure(lock)
    layer = read_requirements(LAYER_REQUIREMENTS.read_text())
    # The suite imports these very versions (uv installs the lock), and the layer installs them: no runtime SDK.
    assert {name: layer[name][0] for name in SDK} == {name: locked[name][0] for name in SDK}
    assert {name: version(name) for name in SDK} == {name: locked[name][0] for name in SDK}
    # ... and the layer's Makefile keeps all of them (LEAVE_OUT is only for bench/'s comparison).
    (leave_out,) = re.findall(r"^LEAVE_OUT \?=(.*)$", LAYER_MAKEFILE.read_text(), flags=re.MULTILINE)
    assert leave_out.strip() == ""


def test_the_layer_can_install_its_arm64_wheels_hash_checked(lock: dict[str, Any]) -> None:
    # The layer's pip runs in hash-checking mode: the arm64 cp313 wheel of every compiled package must be listed.
    (core,) = [p for p in lock["package"] if p["name"] == "pydantic-core"]
    arm64 = [w["hash"] for w in core["wheels"] if re.search(r"cp313-cp313-manylinux_\S*aarch64", w["url"])]
    assert arm64, "uv.lock has no cp313 aarch64 wheel of pydantic-core"
    _, hashes = read_requirements(LAYER_REQUIREMENTS.read_text())["pydantic-core"]
    assert set(arm64) <= hashes


def test_every_locked_package_from_the_index_carries_hashes(lock: dict[str, Any]) -> None:
    unhashed = [p["name"] for p in lock["package"] if "registry" in p["source"] and not _hashes(p)]
    assert not unhashed
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for p in lock["package"] for h in _hashes(p))


def test_the_requirements_reader_sees_a_changed_pin() -> None:
    a, b = "a" * 64, "b" * 64
    text = f"# comment\nsix==1.17.0 \\\n    --hash=sha256:{a}\nurllib3==2.8.0 \\\n    --hash=sha256:{b}\n"
    assert read_requirements(text) == {
        "six": ("1.17.0", frozenset({f"sha256:{a}"})),
        "urllib3": ("2.8.0", frozenset({f"sha256:{b}"})),
    }
    assert read_requirements(text.replace("1.17.0", "1.16.0"))["six"][0] == "1.16.0"
