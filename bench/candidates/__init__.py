"""Build steps undone one at a time on the current code (`--candidates`; see bench/README.md), so the table shows
what each step of the build still buys. The code-level steps (lazy botocore patching, the extension reader, the
one-pass link check) have landed in functions/; their measured effect is recorded in bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.artifacts import FunctionBuild, LayerBuild

SAM_DEFAULT = LayerBuild("python3.13")
LAYER_KEEP_BOTOCORE = LayerBuild("makefile", (("RUNTIME_PROVIDED", ""),))
LAYER = LayerBuild("makefile")
LAYER_UNCHECKED = LayerBuild("makefile", (("INVALIDATION_MODE", "unchecked-hash"),))
FUNCTION_DEFAULT = FunctionBuild("python3.13")
FUNCTION_COMPILED = FunctionBuild("makefile")  # functions/Makefile, the CodeUri's own


@dataclass(frozen=True)
class Candidate:
    name: str
    function_build: FunctionBuild
    layer_build: LayerBuild
    patches: tuple[Path, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    note: str = ""


CANDIDATES: list[Candidate] = [
    Candidate("boto3 path, no compiled bytecode (SAM's python3.13 builder)", FUNCTION_DEFAULT, SAM_DEFAULT),
    Candidate("boto3 path, layer bundling botocore", FUNCTION_COMPILED, LAYER_KEEP_BOTOCORE),
    Candidate("boto3 path, function not compiled", FUNCTION_DEFAULT, LAYER),
    Candidate("boto3 path, unchecked-hash layer", FUNCTION_COMPILED, LAYER_UNCHECKED),
]
