"""`make build` writes a CycloneDX SBOM of exactly what ships: one component per distribution in the built layer, at
the version installed there, under this project as the root component."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.artifact.emulated import LAYER_BUILD, REPO

SBOM = REPO / ".aws-sam" / "sbom.cdx.json"


def shipped() -> set[tuple[str, str]]:
    """(name, version) of every distribution installed in the built layer."""
    found = set()
    for dist_info in (LAYER_BUILD / "python").glob("*.dist-info"):
        metadata = dict(
            line.split(": ", 1) for line in (dist_info / "METADATA").read_text().splitlines()[:10] if ": " in line
        )
        found.add((canonicalize_name(metadata["Name"]), metadata["Version"]))
    return found


def test_the_sbom_lists_exactly_what_the_layer_ships(built: Path) -> None:
    bom = json.loads(SBOM.read_text())

    assert bom["bomFormat"] == "CycloneDX"
    assert bom["metadata"]["component"]["name"] == "paddle-portal"
    listed = {(canonicalize_name(c["name"]), c["version"]) for c in bom["components"]}
    assert listed == shipped()
    assert {"boto3", "botocore", "urllib3"} <= {name for name, _ in listed}
    # every component is pinned by its hashes (from the lock, through the layer's requirements)
    assert all(c.get("purl", "").startswith("pkg:pypi/") for c in bom["components"])
