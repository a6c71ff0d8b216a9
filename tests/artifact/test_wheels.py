"""Every native extension in the built artifact is one Lambda's python3.13 on arm64 can load: an aarch64 ELF, built
for CPython 3.13 (or the stable ABI), from a wheel tagged for a glibc no newer than Amazon Linux 2023's (2.34), and
needing no newer glibc symbol versions. Reads .aws-sam/build (rebuilt by the `built` fixture when stale); no
emulator needed."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from tests.artifact.emulated import FUNCTION_BUILD, LAYER_BUILD

AL2023_GLIBC = (2, 34)
EM_AARCH64 = 183
# manylinux2014 is glibc 2.17 (PEP 599); manylinux_X_Y names X.Y (PEP 600).
LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
ABI_SUFFIX = re.compile(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$")


def extensions(build: Path) -> list[Path]:
    roots = [FUNCTION_BUILD, LAYER_BUILD]
    assert all(root.is_relative_to(build) for root in roots)
    return sorted(path for root in roots for path in root.rglob("*.so"))


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path.name} is not an ELF file"
    assert header[4] == 2, f"{path.name} is not 64-bit"
    byte_order = "<" if header[5] == 1 else ">"
    (machine,) = struct.unpack(f"{byte_order}H", header[18:20])
    return int(machine)


def glibc_needed(path: Path) -> tuple[int, int]:
    """The newest GLIBC_x.y symbol version the library names (its version-needed entries live in .dynstr)."""
    versions = {(int(a), int(b)) for a, b in re.findall(rb"GLIBC_(\d+)\.(\d+)", path.read_bytes())}
    return max(versions, default=(0, 0))


def wheel_tags(dist_info: Path) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in (dist_info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]


def tag_glibc(platform: str) -> tuple[int, int]:
    if found := re.fullmatch(r"manylinux_(\d+)_(\d+)_aarch64", platform):
        return int(found[1]), int(found[2])
    legacy = platform.removesuffix("_aarch64")
    assert legacy in LEGACY_MANYLINUX, f"not a manylinux aarch64 platform: {platform}"
    return LEGACY_MANYLINUX[legacy]


def dist_of(extension: Path) -> Path:
    """The .dist-info whose RECORD lists this file (site root: the layer's python/)."""
    site = LAYER_BUILD / "python"
    relative = extension.relative_to(site).as_posix()
    owners = [d for d in site.glob("*.dist-info") if f"\n{relative}," in "\n" + (d / "RECORD").read_text()]
    assert len(owners) == 1, f"{relative}: owned by {owners}"
    return owners[0]


def test_the_artifact_has_native_extensions(built: Path) -> None:
    # pydantic-core and wrapt at least: a check that finds nothing to check must fail
    names = {path.name.split(".")[0] for path in extensions(built)}
    assert {"_pydantic_core", "_wrappers"} <= names


def test_every_extension_is_aarch64_cpython313(built: Path) -> None:
    wrong = {
        path.relative_to(built).as_posix(): (elf_machine(path), path.name)
        for path in extensions(built)
        if elf_machine(path) != EM_AARCH64 or not ABI_SUFFIX.search(path.name)
    }
    assert wrong == {}, "not aarch64 / CPython 3.13 extension modules"


def test_every_extension_needs_at_most_the_glibc_of_amazon_linux_2023(built: Path) -> None:
    too_new = {path.name: glibc_needed(path) for path in extensions(built) if glibc_needed(path) > AL2023_GLIBC}
    assert too_new == {}


def test_every_native_wheel_is_tagged_cp313_aarch64_for_glibc_234_or_older(built: Path) -> None:
    dists = {dist_of(path) for path in extensions(built) if path.is_relative_to(LAYER_BUILD)}
    assert dists
    for dist in sorted(dists):
        tags = wheel_tags(dist)
        assert tags, f"{dist.name}: no Tag in WHEEL"
        for tag in tags:
            python, abi, platform = tag.split("-")
            assert python == "cp313" or (python.startswith("cp3") and abi == "abi3"), f"{dist.name}: {tag}"
            assert platform.endswith("_aarch64"), f"{dist.name}: {tag}"
            assert tag_glibc(platform) <= AL2023_GLIBC, f"{dist.name}: {tag}"


@pytest.mark.parametrize(
    ("platform", "glibc"),
    [("manylinux2014_aarch64", (2, 17)), ("manylinux_2_28_aarch64", (2, 28)), ("manylinux_2_39_aarch64", (2, 39))],
)
def test_the_tag_reader_knows_the_manylinux_names(platform: str, glibc: tuple[int, int]) -> None:
    assert tag_glibc(platform) == glibc
