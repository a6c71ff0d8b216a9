"""Where this project's cold start goes, part by part (bench/README.md, "Where the gap above the floor goes").

    python -m bench.phases              # 21 fresh processes per path
    python -m bench.phases --cold 41 --busy 1

This project's artifact, built as `python -m bench` builds it, on both secret paths, in fresh processes against the
same stand-ins. Each process imports what the stack floor imports, then our modules, then makes the first
invocation, with its parts timed (the SSL context and pool, the secret read, the Paddle request) and the time each
spent blocked on the network. Medians per part; parts are timed separately, so they do not add up exactly.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import __main__ as driver
from bench.servers import Servers

PATHS = ("this project", "this project, no extension layer")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__)
    parser.add_argument("--cold", type=int, default=21, help="fresh processes per path (default 21)")
    parser.add_argument("--busy", type=int, default=0, metavar="N", help="N busy-loop processes beside the run")
    args = parser.parse_args(argv)
    variants = [v for v in driver.core_variants() if v.name in PATHS]
    busy = [driver.start_busy_loop() for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp:
            scratch = Path(tmp)
            artifacts = [driver.build(v, scratch, i) for i, v in enumerate(variants)]
            servers = Servers(scratch / "tls")
            runs: dict[str, list[dict[str, list[float]]]] = {v.name: [] for v in variants}
            try:
                for _ in range(args.cold):
                    for variant, artifact in zip(variants, artifacts, strict=True):
                        servers.reset()
                        runs[variant.name].append(_run(variant, artifact, servers, scratch))
            finally:
                servers.close()
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print(render(runs, args.cold, args.busy))
    return 0


def _run(variant: driver.Variant, artifact: driver.Artifact, servers: Servers, scratch: Path) -> dict[str, list[float]]:
    result = scratch / "phases.json"
    result.unlink(missing_ok=True)
    config = {"event": str(variant.event), "handler": variant.handler, "result": str(result)}
    child = Path(__file__).with_name("phases_child.py")
    completed = subprocess.run(  # noqa: S603 - our own interpreter and driver
        [sys.executable, "-S", "-P", str(child), json.dumps(config)],
        env=driver.child_env(artifact, servers, variant, variant.handler),
        cwd=artifact.function_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=driver.CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if not result.is_file():
        raise RuntimeError(f"{variant.name}: the child failed:\n{completed.stderr[-3000:]}")
    return json.loads(result.read_text())  # type: ignore[no-any-return]


REST = "the rest of the first invocation"
# Parts that do not overlap: the rest of the first invocation is what they leave.
TOP_LEVEL_PARTS = ("SSL context and pool to Paddle", "secret read", "Paddle requests (connection included)")


def render(runs: dict[str, list[dict[str, list[float]]]], cold: int, busy: int) -> str:
    labels: list[str] = []
    for sample in sorted((s for samples in runs.values() for s in samples), key=len, reverse=True):
        labels += [label for label in sample if label not in labels]  # the order of the sample with most parts
    lines = [
        "| part (ms p50, of which blocked on the network in brackets) | " + " | ".join(runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for label in [*labels, REST]:
        cells = []
        for samples in runs.values():
            present = [part for sample in samples if (part := _part(sample, label)) is not None]
            if not present:
                cells.append("-")
                continue
            ms, wait = statistics.median(p[0] for p in present), statistics.median(p[1] for p in present)
            cells.append(f"{ms:.1f}" + (f" ({wait:.1f})" if wait >= 0.05 else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    load = f"{busy} busy-loop process(es) beside it" if busy else "idle: no load added"
    return "\n".join([*lines, "", f"{cold} fresh processes per path (median) · {load}"])


def _part(sample: dict[str, list[float]], label: str) -> tuple[float, float] | None:
    if label == REST:
        first = sample["first invocation"]
        parts = [sample[p] for p in TOP_LEVEL_PARTS if p in sample]
        return first[0] - sum(p[0] for p in parts), first[1] - sum(p[1] for p in parts)
    value = sample.get(label)
    return (value[0], value[1]) if value is not None else None


if __name__ == "__main__":
    sys.exit(main())
