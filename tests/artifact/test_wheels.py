"""Every native extension in the built artifact is one Lambda's python3.13 on arm64 can load: an aarch64 ELF, built for
CPython 3.13 (or the stable ABI), needing no glibc symbol newer than Amazon Linux 2023's (2.34), from a wheel tagged
for such a glibc. Reads .aws-sam/build (rebuilt by the `built` fixture when stale); no emulator needed. And `make
build` writes a CycloneDX SBOM of exactly what the layer ships, under this project as the root component."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.artifact.emulated import FUNCTION_BUILD, LAYER_BUILD, REPO

AL2023_GLIBC, EM_AARCH64 = (2, 34), 183
LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}  # PEP 599; 600: _X_Y


def tag_glibc(platform: str) -> tuple[int, int]:
    if found := re.fullmatch(r"manylinux_(\d+)_(\d+)_aarch64", platform):
        return int(found[1]), int(found[2])
    return LEGACY_MANYLINUX[platform.removesuffix("_aarch64")]  # KeyError: not a manylinux aarch64 platform


def test_every_native_extension_is_aarch64_cpython313_for_the_glibc_of_amazon_linux_2023(built: Path) -> None:
    extensions = sorted(path for root in (FUNCTION_BUILD, LAYER_BUILD) for path in root.rglob("*.so"))
    assert {"_pydantic_core", "_wrappers"} <= {path.name.split(".")[0] for path in extensions}  # something to check
    assert [tag_glibc(f"{name}_aarch64") for name in ("manylinux2014", "manylinux_2_39")] == [(2, 17), (2, 39)]
    for path in extensions:
        data = path.read_bytes()
        assert (data[:4], data[4]) == (b"\x7fELF", 2), f"{path.name}: not a 64-bit ELF file"
        assert struct.unpack("<H" if data[5] == 1 else ">H", data[18:20])[0] == EM_AARCH64, path.name
        assert re.search(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$", path.name), path.name
        needed = {(int(a), int(b)) for a, b in re.findall(rb"GLIBC_(\d+)\.(\d+)", data)}  # version-needed entries
        assert max(needed, default=(0, 0)) <= AL2023_GLIBC, path.name
    site = LAYER_BUILD / "python"
    records = {dist: "\n" + (dist / "RECORD").read_text() for dist in site.glob("*.dist-info")}
    for path in (path for path in extensions if path.is_relative_to(site)):
        [dist] = [dist for dist, record in records.items() if f"\n{path.relative_to(site).as_posix()}," in record]
        tags = [line[4:].strip() for line in (dist / "WHEEL").read_text().splitlines() if line.startswith("Tag:")]
        assert tags, f"{dist.name}: no Tag in WHEEL"
        for python, abi, platform in (tag.split("-") for tag in tags):
            assert python == "cp313" or (python.startswith("cp3") and abi == "abi3"), f"{dist.name}: {python}-{abi}"
            assert platform.endswith("_aarch64"), f"{dist.name}: {platform}"
            assert tag_glibc(platform) <= AL2023_GLIBC, f"{dist.name}: {platform}"


def test_the_sbom_lists_exactly_what_the_layer_ships(built: Path) -> None:
    bom = json.loads((REPO / ".aws-sam" / "sbom.cdx.json").read_text())
    shipped = set()
    for dist_info in (LAYER_BUILD / "python").glob("*.dist-info"):
        lines = (dist_info / "METADATA").read_text().splitlines()[:10]
        metadata = dict(line.split(": ", 1) for line in lines if ": " in line)
        shipped.add((canonicalize_name(metadata["Name"]), metadata["Version"]))

    assert (bom["bomFormat"], bom["metadata"]["component"]["name"]) == ("CycloneDX", "paddle-portal")
    assert {(canonicalize_name(c["name"]), c["version"]) for c in bom["components"]} == shipped
    assert {"boto3", "botocore", "urllib3"} <= {name for name, _ in shipped}
    assert all(c.get("purl", "").startswith("pkg:pypi/") for c in bom["components"])
