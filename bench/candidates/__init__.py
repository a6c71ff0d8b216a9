"""Candidate changes, each measured on a scratch copy of functions/ (see bench/README.md).

Each row adds one change to the row before it, so the table shows what each step buys. The diffs are written
against the repository root (a/functions/...) and apply in order with `git apply bench/candidates/<name>.diff`.

What goes with them outside functions/ (not used by the bench itself): functions.Makefile (-> functions/Makefile),
template-layer-metadata.diff + test-template-layer.diff, template-function-metadata.diff,
template-secrets-extension.diff + test-secrets-extension.diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.artifacts import FunctionBuild, LayerBuild

HERE = Path(__file__).resolve().parent
SAM_DEFAULT = LayerBuild("python3.13")
LAYER_KEEP_BOTOCORE = LayerBuild("makefile", (("RUNTIME_PROVIDED", ""),))
LAYER = LayerBuild("makefile")
LAYER_UNCHECKED = LayerBuild("makefile", (("INVALIDATION_MODE", "unchecked-hash"),))
FUNCTION_DEFAULT = FunctionBuild("python3.13")
FUNCTION_COMPILED = FunctionBuild("makefile", HERE / "functions.Makefile")
EXTENSION_ENV = (("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "{extension_port}"),)


@dataclass(frozen=True)
class Candidate:
    name: str
    function_build: FunctionBuild
    layer_build: LayerBuild
    patches: tuple[Path, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    note: str = ""


def _patches(*names: str) -> tuple[Path, ...]:
    return tuple(HERE / f"{name}.diff" for name in names)


CANDIDATES: list[Candidate] = [
    Candidate("c1 layer compiled (keeps botocore)", FUNCTION_DEFAULT, LAYER_KEEP_BOTOCORE),
    Candidate("c2 + runtime's botocore", FUNCTION_DEFAULT, LAYER),
    Candidate("c3 + function compiled", FUNCTION_COMPILED, LAYER),
    Candidate("c3u unchecked-hash layer", FUNCTION_COMPILED, LAYER_UNCHECKED),
    Candidate("c4 + Tracer patches botocore lazily", FUNCTION_COMPILED, LAYER, _patches("c4-tracer-lazy-botocore")),
    Candidate(
        "c5 + secret via the extension",
        FUNCTION_COMPILED,
        LAYER,
        _patches("c4-tracer-lazy-botocore", "c5-secrets-extension"),
        EXTENSION_ENV,
    ),
    Candidate(
        "c6 + links checked in one pass",
        FUNCTION_COMPILED,
        LAYER,
        _patches("c4-tracer-lazy-botocore", "c5-secrets-extension", "c6-links-fast-check"),
        EXTENSION_ENV,
    ),
]
