"""One row per change on the current code (`--candidates`; see bench/README.md), each measured on its own:

- steps that were kept, undone one at a time, so the table shows what each still buys: build steps (layer and
  function bytecode, the runtime's botocore) and code steps whose undoing is a diff in this folder;
- changes that were tried and not kept (their row shows why), as a diff in this folder or as a setting.

Diffs are applied to a scratch copy of functions/. Earlier code steps (lazy botocore patching, the extension reader,
the one-pass link check) have their measured effect recorded in bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.artifacts import FunctionBuild, LayerBuild

HERE = Path(__file__).resolve().parent
# The extension path (the smaller stack floor): where a few milliseconds of the function's own start show most.
EXTENSION = (("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "{extension_port}"),)

SAM_DEFAULT = LayerBuild("python3.13")
# The layer as it was before the SDK shipped in it: boto3/botocore/s3transfer left to the runtime.
LAYER_RUNTIME_SDK = LayerBuild("makefile", (("LEAVE_OUT", "boto3 botocore s3transfer"),))
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


# Placeholders in settings: {extension_port}, {ca_only} (a CA bundle holding only the run's own CA).
CANDIDATES: list[Candidate] = [
    Candidate("boto3 path, no compiled bytecode (SAM's python3.13 builder)", FUNCTION_DEFAULT, SAM_DEFAULT),
    Candidate("boto3 path, SDK left to the runtime (previous layer)", FUNCTION_COMPILED, LAYER_RUNTIME_SDK),
    Candidate("boto3 path, function not compiled", FUNCTION_DEFAULT, LAYER),
    Candidate("boto3 path, unchecked-hash layer", FUNCTION_COMPILED, LAYER_UNCHECKED),
    Candidate(
        "extension path, REST API models built at import",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "rest_models_at_import.diff",),
        EXTENSION,
    ),
    Candidate(
        "extension path, request models built at import (no defer_build)",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "models_built_at_import.diff",),
        EXTENSION,
    ),
    Candidate(
        "extension path, html imported at import (kept: imported by the error page)",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "html_at_import.diff",),
        EXTENSION,
    ),
    # Tried, not kept.
    Candidate(
        "extension path, signed-link code loaded when first used (not kept)",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "signed_links_when_used.diff",),
        EXTENSION,
    ),
    Candidate(
        "extension path, nested HTTP API and Paddle answer models deferred (not kept)",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "nested_models_deferred.diff",),
        EXTENSION,
    ),
    Candidate(
        "extension path, settings, SSL context and pool built at init (not kept)",
        FUNCTION_COMPILED,
        LAYER,
        (HERE / "dependencies_at_init.diff",),
        EXTENSION,
    ),
    Candidate(
        "extension path, tracing off (POWERTOOLS_TRACE_DISABLED=true)",
        FUNCTION_COMPILED,
        LAYER,
        env=(*EXTENSION, ("POWERTOOLS_TRACE_DISABLED", "true")),
        note="Tracer(auto_patch=False) still imports aws_xray_sdk.core",
    ),
    Candidate(
        "boto3 path, botocore given a one-certificate CA bundle",
        FUNCTION_COMPILED,
        LAYER,
        env=(("AWS_CA_BUNDLE", "{ca_only}"),),
        note="botocore loads its CA bundle into every new connection; this is what that load costs (the system "
        "bundle here, certifi's or botocore's own on Lambda)",
    ),
]
