"""Where this project's cold start goes, part by part (bench/README.md, "Where the gap above the floor goes").

    python -m bench.phases                    # this project on both secret paths, 21 fresh processes each
    python -m bench.phases --candidates       # + the code candidates (bench/candidates/), each on its own
    python -m bench.phases --cold 41 --busy 1

This project's artifact and the stack floors, built as `python -m bench` builds them, in fresh processes against the
same stand-ins. Each process imports what the stack floor imports, then our modules, then makes the first
invocation, with its parts timed (the SSL context and pool, the secret read, the Paddle request) and the time each
spent blocked on the network; a floor's row times the same parts of its own work (the SSL context and pool, boto3
imported and its client built). Much less noisy than whole cold starts for small changes: a change to our modules
shows in their column alone. Medians per part; parts are medians of their own, so they do not add up exactly.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import __main__ as driver
from bench.servers import Servers

PATHS = (driver.STACK_FLOOR_NO_BOTO3, "this project", driver.STACK_FLOOR_BOTO3, "this project, no extension layer")
PROJECT_HANDLER = "paddle_portal.app.lambda_handler"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.phases", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", type=int, default=21, help="fresh processes per variant (default 21)")
    parser.add_argument("--candidates", action="store_true", help="also the candidates that change our code")
    parser.add_argument("--busy", type=int, default=0, metavar="N", help="N busy-loop processes beside the run")
    args = parser.parse_args(argv)
    variants = sorted((v for v in driver.core_variants() if v.name in PATHS), key=lambda v: PATHS.index(v.name))
    if args.candidates:  # the candidates that change our code or its settings, on the template's layer build
        variants += [
            v
            for v in driver.candidate_variants()
            if (v.patches or v.env) and v.handler == PROJECT_HANDLER and v.layer_build == variants[0].layer_build
        ]
    busy = [driver.start_busy_loop() for _ in range(args.busy)]
    try:
        runs = _measure(variants, args.cold)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print(render(runs, args.cold, args.busy))
    return 0


def _measure(variants: list[driver.Variant], cold: int) -> dict[str, list[dict[str, list[float]]]]:
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp:
        scratch = Path(tmp)
        built = []
        for i, variant in enumerate(variants):
            try:
                built.append((variant, driver.build(variant, scratch, i)))
            except driver.artifacts.PatchError as stale:
                print(f"left out: {variant.name}: {stale}", file=sys.stderr)
        servers = Servers(scratch / "tls")
        runs: dict[str, list[dict[str, list[float]]]] = {variant.name: [] for variant, _ in built}
        try:
            for round_number in range(cold):
                order = list(built)
                random.Random(round_number).shuffle(order)  # noqa: S311 - an order, not a secret
                for variant, artifact in order:
                    servers.reset()
                    runs[variant.name].append(_run(variant, artifact, servers, scratch))
        finally:
            servers.close()
    return runs


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


def render(runs: dict[str, list[dict[str, list[float]]]], cold: int, busy: int) -> str:
    """One row per variant, one column per part: `ms p50 (of which blocked on the network)`."""
    labels: list[str] = []
    for sample in sorted((s for samples in runs.values() for s in samples), key=len, reverse=True):
        labels += [label for label in sample if label not in labels]  # the order of the sample with most parts
    lines = ["| variant | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for name, samples in runs.items():
        cells = []
        for label in labels:
            present = [part for sample in samples if (part := _part(sample, label)) is not None]
            if not present:
                cells.append("-")
                continue
            ms, wait = statistics.median(p[0] for p in present), statistics.median(p[1] for p in present)
            cells.append(f"{ms:.1f}" + (f" ({wait:.1f})" if wait >= 0.05 else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    load = f"{busy} busy-loop process(es) beside it" if busy else "idle: no load added"
    return "\n".join(
        [
            *lines,
            "",
            f"ms p50 over {cold} fresh processes per variant (in brackets: of which blocked on the network) · {load}",
        ]
    )


def _part(sample: dict[str, list[float]], label: str) -> tuple[float, float] | None:
    value = sample.get(label)
    return (value[0], value[1]) if value is not None else None


if __name__ == "__main__":
    sys.exit(main())
