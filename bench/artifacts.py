"""The x86_64 twin of what `sam build` puts in .aws-sam/build, built the way template.yaml says SAM builds it.

`sam build` fetches arm64 wheels (pydantic-core), which cannot be imported on this x86_64 machine, so the benchmark
builds the same artifact with host wheels:

- layer, BuildMethod python3.13: SAM's python builder unpacks the wheels and writes no bytecode; emulated with
  `pip install --no-compile --target`.
- layer, BuildMethod makefile: the layer's own Makefile, run as SAM runs it (a scratch copy of the folder,
  ARTIFACTS_DIR set), with PLATFORMS switched to x86_64 wheels.
- function, BuildMethod python3.13 (the default): the CodeUri folder copied without __pycache__; function, makefile:
  its Makefile, as for the layer.
- then every file and folder time is reset to 1980-01-01, as SAM's zip (zipfile.ZipInfo without date_time) leaves
  them when Lambda unpacks it. The child processes run with PYTHONDONTWRITEBYTECODE=1: /var/task and /opt are
  read-only on Lambda, so nothing compiled at a cold start is ever kept.
- the runtime's boto3/botocore: `pip install --target` of the boto3 pinned in pyproject.toml, with the
  ordinary timestamp bytecode pip writes and the real file times, like the runtime's own site-packages, whose
  .pyc files are valid.

Layers and the runtime folder are cached in .aws-sam/bench/, keyed by everything that goes into them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z: the time of every entry of a SAM zip
HOST_PLATFORMS = "manylinux2014_x86_64 manylinux_2_28_x86_64 manylinux_2_34_x86_64"
PIP = (sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts")


@dataclass(frozen=True)
class LayerBuild:
    """How the dependencies layer is built: SAM's python builder, or the layer's Makefile with variables."""

    method: str  # "python3.13" | "makefile"
    make_vars: tuple[tuple[str, str], ...] = ()

    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.make_vars)
        return f"{self.method} {extra}".strip()


@dataclass(frozen=True)
class FunctionBuild:
    method: str  # "python3.13" | "makefile"
    makefile: Path | None = None  # a Makefile to use instead of the CodeUri's own (a candidate under test)


@dataclass
class Artifact:
    function_dir: Path
    layer_dir: Path | None  # the folder mounted at /opt (its python/ is on sys.path)
    runtime_dir: Path
    notes: list[str] = field(default_factory=list)

    def pythonpath(self) -> str:
        parts = [self.function_dir]
        if self.layer_dir is not None:
            parts.append(self.layer_dir / "python")
        parts.append(self.runtime_dir)
        return os.pathsep.join(str(p) for p in parts)

    def size_bytes(self) -> int:
        """Unzipped size of what is deployed: function + layer (the runtime's files are not ours)."""
        return tree_size(self.function_dir) + (tree_size(self.layer_dir) if self.layer_dir else 0)


class _CfnLoader(yaml.SafeLoader):
    """Reads a CloudFormation template: intrinsic-function tags (!Ref, !Sub, ...) become plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def _template(template: Path) -> dict:
    return yaml.load(template.read_text(), Loader=_CfnLoader)  # type: ignore[no-any-return]  # noqa: S506 - SafeLoader subclass


def function_env_names(template: Path, logical_id: str) -> set[str]:
    """Environment variable names the template gives a function (Globals included), whatever their values."""
    document = _template(template)
    names = set()
    for scope in (
        (document.get("Globals") or {}).get("Function") or {},
        ((document.get("Resources") or {}).get(logical_id) or {}).get("Properties") or {},
    ):
        names |= set(((scope.get("Environment") or {}).get("Variables") or {}).keys())
    return names


def build_methods(template: Path) -> dict[str, str]:
    """Logical id -> SAM build method, for every function and layer of the template."""
    document = _template(template)
    methods = {}
    for logical_id, resource in (document.get("Resources") or {}).items():
        kind = resource.get("Type")
        if kind == "AWS::Serverless::LayerVersion":
            methods[logical_id] = (resource.get("Metadata") or {}).get("BuildMethod", "none")
        elif kind == "AWS::Serverless::Function":
            methods[logical_id] = (resource.get("Metadata") or {}).get("BuildMethod", "python3.13")
    return methods


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def reset_times(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH), follow_symlinks=False)


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _run(command: list[str] | tuple[str, ...], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}")


def _make(makefile: Path, source: Path, target: str, artifacts: Path, make_vars: dict[str, str]) -> None:
    """Run a build target as SAM's makefile builder does: in a scratch copy of the source, ARTIFACTS_DIR set."""
    with tempfile.TemporaryDirectory(prefix="bench-scratch-") as scratch:
        shutil.copytree(source, scratch, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".aws-sam", ".git"))
        env = {**os.environ, "ARTIFACTS_DIR": str(artifacts)}
        # The benchmark's interpreter is the Python 3.13 the bytecode must match.
        overrides = {"PYTHON": sys.executable, **make_vars}
        command = ["make", "--makefile", str(makefile), f"build-{target}", *(f"{k}={v}" for k, v in overrides.items())]
        _run(command, cwd=Path(scratch), env=env)


def build_layer(repo: Path, cache: Path, build: LayerBuild) -> Path:
    source = repo / "layers" / "dependencies"
    requirements = (source / "requirements.txt").read_bytes()
    makefile = source / "Makefile"
    make_text = makefile.read_bytes() if build.method == "makefile" else b""
    key = _digest(build.method, repr(build.make_vars), requirements, make_text, sys.version, HOST_PLATFORMS)
    out = cache / f"layer-{key}"
    if (out / ".complete").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if build.method == "makefile":
        _make(makefile, source, "DependenciesLayer", out, {"PLATFORMS": HOST_PLATFORMS, **dict(build.make_vars)})
    elif build.method == "python3.13":
        _run(
            [
                *PIP,
                "--no-compile",
                "--only-binary=:all:",
                "--target",
                str(out / "python"),
                "-r",
                str(source / "requirements.txt"),
            ]
        )
        shutil.rmtree(out / "python" / "bin", ignore_errors=True)  # SAM unpacks wheels; it installs no scripts
    else:
        raise ValueError(f"unsupported layer build method {build.method!r}")
    reset_times(out)
    (out / ".complete").write_text(build.label())
    return out


def runtime_boto3_pin(repo: Path) -> str:
    found = re.search(r'"boto3==([^"]+)"', (repo / "pyproject.toml").read_text())  # the local dependency group
    return f"boto3=={found.group(1)}" if found else "boto3"


def build_runtime(repo: Path, cache: Path) -> Path:
    pin = runtime_boto3_pin(repo)
    out = cache / f"runtime-{_digest(pin, sys.version)}"
    if (out / ".complete").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    # pip compiles timestamp-checked bytecode against the files' real times: valid, like the runtime's own.
    _run([*PIP, "--only-binary=:all:", "--target", str(out), pin])
    (out / ".complete").write_text(pin)
    return out


def build_function(source: Path, out: Path, build: FunctionBuild, logical_id: str) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if build.method == "makefile":
        makefile = build.makefile or source / "Makefile"
        _make(makefile, source, logical_id, out, {})
    elif build.method == "python3.13":
        shutil.copytree(
            source, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".aws-sam", ".git")
        )
    else:
        raise ValueError(f"unsupported function build method {build.method!r}")
    reset_times(out)
    return out


class PatchError(RuntimeError):
    """A candidate's diff no longer applies to the current functions/ (regenerate it against the current code)."""


def apply_patches(source: Path, patches: tuple[Path, ...], scratch: Path) -> Path:
    """A scratch copy of `source` (a folder of the repo, e.g. functions/) with candidate diffs applied."""
    shutil.rmtree(scratch, ignore_errors=True)
    target = scratch / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for patch in patches:
        # Diffs are written against the repository root (a/functions/...): apply them inside the scratch root.
        apply = ["git", "apply", "--unsafe-paths", f"--directory={scratch}", "-p1"]
        already = subprocess.run(  # noqa: S603 - git on our own diff
            [*apply, "--reverse", "--check", str(patch.resolve())], cwd=scratch, capture_output=True, check=False
        )
        if already.returncode == 0:
            continue  # functions/ has this change already: measure it as it is
        applied = subprocess.run(  # noqa: S603 - git on our own diff
            [*apply, str(patch.resolve())], cwd=scratch, capture_output=True, text=True, check=False
        )
        if applied.returncode != 0:
            raise PatchError(f"{patch.name} does not apply to functions/ any more: {applied.stderr.strip()[-500:]}")
    return target
