"""Cold start and warm path of the function, beside a no-op floor and a typical Powertools baseline.

    python -m bench                      # what `make bench` runs: floor, baseline, this project
    python -m bench --candidates         # also each candidate change measured on a scratch copy of functions/
    python -m bench --cold 5 --warm 200  # quicker, noisier
    python -m bench --only floor,"this project" --profile prof/  # + a cProfile of each cold start (pstats files)

See bench/README.md for what each figure means and how the artifact is built.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import artifacts
from bench.artifacts import Artifact, FunctionBuild, LayerBuild
from bench.servers import SECRET_ARN, Servers

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
CACHE = REPO / ".aws-sam" / "bench"
EVENT = REPO / "events" / "http_api" / "post_portal_sessions_iam.json"
# The JWT route's event: its token carries both the customer claim and a verified email (CUSTOMER_LOOKUP decides).
JWT_EVENT = REPO / "events" / "http_api" / "post_portal_sessions_jwt.json"
CHILD_TIMEOUT_SECONDS = 180
# python -v says "code object from /path/module.py" for a module compiled from source, and names the .pyc otherwise.
COMPILED_FROM_SOURCE = re.compile(r"^# code object from '?([^']+\.py)'?$", re.MULTILINE)


@dataclass(frozen=True)
class Variant:
    name: str
    source: Path  # the CodeUri folder
    handler: str
    function_build: FunctionBuild
    layer_build: LayerBuild | None
    patches: tuple[Path, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    note: str = ""
    reference: bool = False  # a floor: its handler makes no call, so it has no Secrets Manager or Paddle counts
    over: str | None = None  # the stack floor this row's cold start is reported as a ratio of
    over_job: str | None = None  # the stack floor doing the job (its secret read and Paddle request), the same way
    event: Path = EVENT  # what every invocation (cold and warm) receives


@dataclass
class Measured:
    variant: Variant
    artifact: Artifact
    cold: list[dict[str, Any]] = field(default_factory=list)
    warm: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    compiled: list[str] = field(default_factory=list)


EXTENSION_PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
STACK_FLOOR_BOTO3 = "stack floor: boto3 path"
STACK_FLOOR_NO_BOTO3 = "stack floor: no boto3 (extension path)"
JOB_FLOOR_BOTO3 = "stack floor doing the job: boto3 path"
JOB_FLOOR_EXTENSION = "stack floor doing the job: extension path"
# How far above the stack floor the project's cold start may be, on each secret path.
STACK_FLOOR_TARGET = 1.10
# The layer before the SDK shipped in it: the runtime's boto3/botocore served the function (docs/design.md, "One SDK").
RUNTIME_SDK = "this project, no extension layer, runtime's SDK (previous layer)"


def core_variants() -> list[Variant]:
    template = REPO / "template.yaml"
    methods = artifacts.build_methods(template)
    layer = LayerBuild(methods.get("DependenciesLayer", "python3.13"))
    function = FunctionBuild(methods.get("PortalFunction", "python3.13"))
    sam_default = LayerBuild("python3.13")
    # When the template configures the Parameters and Secrets extension, its loopback stand-in plays the extension.
    extension = EXTENSION_PORT_ENV in artifacts.function_env_names(template, "PortalFunction")
    env = ((EXTENSION_PORT_ENV, "{extension_port}"),) if extension else ()
    stack_floor = FunctionBuild("makefile")  # bench/stack_floor/Makefile: compiled like functions/
    variants = [
        Variant(
            "floor: no-op handler",
            BENCH / "floor",
            "noop.lambda_handler",
            FunctionBuild("python3.13"),
            None,
            reference=True,
        ),
        Variant(
            STACK_FLOOR_BOTO3,
            BENCH / "stack_floor",
            "stack.lambda_handler",
            stack_floor,
            layer,
            env=(("STACK_FLOOR_BOTO3", "1"),),
            reference=True,
            note="imports and clients of the stack only, boto3 Secrets Manager client included",
        ),
        Variant(
            STACK_FLOOR_NO_BOTO3,
            BENCH / "stack_floor",
            "stack.lambda_handler",
            stack_floor,
            layer,
            env=(("STACK_FLOOR_BOTO3", "0"),),
            reference=True,
            note="the same without boto3",
        ),
        Variant(
            JOB_FLOOR_BOTO3,
            BENCH / "stack_floor",
            "job.lambda_handler",
            stack_floor,
            layer,
            env=(("STACK_FLOOR_BOTO3", "1"),),
            note="the boto3 floor, plus the secret read with Powertools Parameters and the Paddle POST over its pool",
        ),
        Variant(
            JOB_FLOOR_EXTENSION,
            BENCH / "stack_floor",
            "job.lambda_handler",
            stack_floor,
            layer,
            env=(("STACK_FLOOR_BOTO3", "0"), (EXTENSION_PORT_ENV, "{extension_port}")),
            note="the no-boto3 floor, plus the secret read through the extension and the Paddle POST over its pool",
        ),
        Variant(
            "baseline: typical Powertools",
            BENCH / "baseline",
            "app.lambda_handler",
            FunctionBuild("python3.13"),
            sam_default,
        ),
        Variant(
            "this project",
            REPO / "functions",
            "paddle_portal.app.lambda_handler",
            function,
            layer,
            env=env,
            over=STACK_FLOOR_NO_BOTO3 if extension else STACK_FLOOR_BOTO3,
            over_job=JOB_FLOOR_EXTENSION if extension else JOB_FLOOR_BOTO3,
            note=f"layer {layer.method}, function {function.method}, secret via "
            + ("the Parameters and Secrets extension" if extension else "boto3"),
        ),
    ]
    if extension:  # the template makes the extension optional: show the boto3 path as well
        variants.append(
            Variant(
                "this project, no extension layer",
                REPO / "functions",
                "paddle_portal.app.lambda_handler",
                function,
                layer,
                over=STACK_FLOOR_BOTO3,
                over_job=JOB_FLOOR_BOTO3,
                note="the same build, secret via boto3",
            )
        )
    if layer.method == "makefile":  # the boto3 path with the SDK left to the runtime, as the layer was built before
        variants.append(
            Variant(
                RUNTIME_SDK,
                REPO / "functions",
                "paddle_portal.app.lambda_handler",
                function,
                LayerBuild(layer.method, (*layer.make_vars, ("LEAVE_OUT", "boto3 botocore s3transfer"))),
                over=STACK_FLOOR_BOTO3,
                over_job=JOB_FLOOR_BOTO3,
                note="boto3/botocore/s3transfer left out of the layer: the runtime's folder (last on sys.path) serves",
            )
        )
    floors = (STACK_FLOOR_NO_BOTO3, JOB_FLOOR_EXTENSION) if extension else (STACK_FLOOR_BOTO3, JOB_FLOOR_BOTO3)
    return variants + jwt_variants(function, layer, env, floors)


def jwt_variants(
    function: FunctionBuild, layer: LayerBuild, env: tuple[tuple[str, str], ...], floors: tuple[str, str]
) -> list[Variant]:
    """The JWT route (`POST /portal-sessions`) with each way of knowing the customer (CUSTOMER_LOOKUP). With
    `verified_email` a call whose email is not cached makes one more Paddle request (`GET /customers?email=`) before the
    session: the first call of every execution environment, and every call when the cache is off."""
    rows = (
        ("this project, JWT route, customer from the claim", (("CUSTOMER_LOOKUP", "claim"),), "no lookup"),
        (
            "this project, JWT route, verified email, cached",
            (("CUSTOMER_LOOKUP", "verified_email"), ("CUSTOMER_LOOKUP_MAX_AGE_SECONDS", "300")),
            "the cold call misses (a new environment's cache is empty), warm calls hit",
        ),
        (
            "this project, JWT route, verified email, never cached",
            (("CUSTOMER_LOOKUP", "verified_email"), ("CUSTOMER_LOOKUP_MAX_AGE_SECONDS", "0")),
            "every call misses (CUSTOMER_LOOKUP_MAX_AGE_SECONDS=0)",
        ),
    )
    return [
        Variant(
            name,
            REPO / "functions",
            "paddle_portal.app.lambda_handler",
            function,
            layer,
            env=env + lookup,
            over=floors[0],
            over_job=floors[1],
            note=note,
            event=JWT_EVENT,
        )
        for name, lookup, note in rows
    ]


def candidate_variants() -> list[Variant]:
    """The current code with one build step undone per variant (defined in bench/candidates/)."""
    from bench.candidates import CANDIDATES

    project = REPO / "functions"
    handler = "paddle_portal.app.lambda_handler"
    variants = []
    for c in CANDIDATES:
        extension = any(k == EXTENSION_PORT_ENV for k, _ in c.env)
        variants.append(
            Variant(
                c.name,
                project,
                handler,
                c.function_build,
                c.layer_build,
                c.patches,
                c.env,
                c.note,
                over=STACK_FLOOR_NO_BOTO3 if extension else STACK_FLOOR_BOTO3,
                over_job=JOB_FLOOR_EXTENSION if extension else JOB_FLOOR_BOTO3,
            )
        )
    return variants


def child_env(artifact: Artifact, servers: Servers, variant: Variant, handler: str) -> dict[str, str]:
    """What Lambda puts in a python3.13 function's environment, with every AWS endpoint on loopback."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": artifact.pythonpath(),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only on Lambda
        "LAMBDA_TASK_ROOT": str(artifact.function_dir),
        "LAMBDA_RUNTIME_DIR": str(artifact.runtime_dir),
        "_HANDLER": handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": "paddle-portal-bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/paddle-portal-bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Obviously fake credentials: the loopback Secrets Manager does not check signatures.
        "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",  # pragma: allowlist secret - AWS's documented example
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # pragma: allowlist secret - same
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLEFAKESESSIONTOKEN",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": servers.secrets_manager.url,
        "AWS_CA_BUNDLE": str(servers.ca_bundle),
        "SSL_CERT_FILE": str(servers.ca_bundle),
        "AWS_XRAY_DAEMON_ADDRESS": servers.xray.address,
        "_AWS_XRAY_DAEMON_ADDRESS": servers.xray.address.split(":")[0],
        "_AWS_XRAY_DAEMON_PORT": servers.xray.address.split(":")[1],
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        # template.yaml's Globals and the function's own variables.
        "POWERTOOLS_SERVICE_NAME": "paddle-portal",
        "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "PADDLE_API_KEY_SECRET_ID": SECRET_ARN,
        "SECRET_MAX_AGE_SECONDS": "300",
        "PADDLE_ENVIRONMENT": "sandbox",
        "PADDLE_API_BASE_URL": servers.paddle.url,
        "PADDLE_REQUEST_BUDGET_SECONDS": "10",
        **{
            k: v.replace("{extension_port}", str(servers.extension.server_address[1])).replace(
                "{ca_only}", str(servers.ca_only)
            )
            for k, v in variant.env
        },
    }


def run_child(
    measured: Measured,
    servers: Servers,
    *,
    warm: int,
    verbose: bool,
    sampled: bool,
    scratch: Path,
    components: int = 0,
    profile: Path | None = None,
    importtime: Path | None = None,
) -> dict[str, Any]:
    variant = measured.variant
    result_file = scratch / "result.json"
    result_file.unlink(missing_ok=True)
    config = {
        "event": str(variant.event),
        "handler": variant.handler,
        "warm": warm,
        "xray_sampled": sampled,
        "result": str(result_file),
        "spawned": time.perf_counter(),
        "components": components,
        **({"cold_profile": str(profile)} if profile is not None else {}),
    }
    flags = [*(["-v"] if verbose else []), *(["-X", "importtime"] if importtime is not None else [])]
    command = [sys.executable, "-S", "-P", *flags, str(BENCH / "child.py"), json.dumps(config)]
    env = child_env(measured.artifact, servers, variant, variant.handler)
    completed = subprocess.run(  # noqa: S603 - our own interpreter and driver
        command,
        env=env,
        cwd=measured.artifact.function_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    result = json.loads(result_file.read_text()) if result_file.is_file() else {"ok": False}
    if not result.get("ok"):
        raise RuntimeError(f"{variant.name}: the child failed:\n{result.get('error', '')}\n{completed.stderr[-3000:]}")
    if verbose:
        measured.compiled = COMPILED_FROM_SOURCE.findall(completed.stderr)
    if importtime is not None:
        importtime.write_text(completed.stderr)
    return result


def build(variant: Variant, scratch: Path, index: int) -> Artifact:
    source = variant.source
    if variant.patches:
        source = artifacts.apply_patches(source, variant.patches, scratch / f"patched-{index}")
    logical_id = "PortalFunction"
    function_dir = artifacts.build_function(source, scratch / f"function-{index}", variant.function_build, logical_id)
    layer_dir = artifacts.build_layer(REPO, CACHE, variant.layer_build) if variant.layer_build else None
    return Artifact(function_dir, layer_dir, artifacts.build_runtime(REPO, CACHE))


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else platform.processor() or cpu
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError, ValueError):
        pass
    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def render(
    results: list[Measured], *, cold: int, warm: int, sampled: bool, started: float, load_before: str, busy: int = 0
) -> str:
    header = (
        "| variant | cold start ms p50 (spawn to 1st response) | of which import ms "
        "| of which 1st call waiting on the network ms | warm µs p50 | warm µs p99 | Secrets Manager calls "
        "| TCP connections to Paddle | Paddle requests | modules compiled from source | unzipped MB "
        "| cold start / stack floor | cold start / floor doing the job |"
    )
    rows = [header, "|" + "---|" * 13]
    for m in results:
        cold_ms = _p50([c["cold_ms"] for c in m.cold])
        import_ms = _p50([c["import_ms"] for c in m.cold])
        waiting_ms = _p50([c["first_call_network_ms"] for c in m.cold])
        is_floor = m.variant.reference
        ratio, job_ratio = floor_ratio(m, results), floor_ratio(m, results, job=True)
        rows.append(
            f"| {m.variant.name} | {cold_ms:.0f} | {import_ms:.0f} | {waiting_ms:.0f} | {m.warm['warm_p50_us']:.0f} "
            f"| {m.warm['warm_p99_us']:.0f} | {'-' if is_floor else m.counts['secrets_manager_calls']} "
            f"| {'-' if is_floor else m.counts['paddle_connections']} "
            f"| {'-' if is_floor else m.counts['paddle_requests']} | {len(m.compiled)} "
            f"| {m.artifact.size_bytes() / 1e6:.1f} | {'-' if ratio is None else f'{ratio:.2f}x'} "
            f"| {'-' if job_ratio is None else f'{job_ratio:.2f}x'} |"
        )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        *rows,
        "",
        f"{now} · {machine()} · {cold} fresh processes per variant (median), "
        f"{warm} warm invocations after the cold one (Secrets Manager calls, Paddle connections and requests counted "
        f"over all {warm + 1}) · X-Ray trace header Sampled={int(sampled)} · load average {load_before} before, "
        f"{os.getloadavg()[0]:.1f} after · {time.monotonic() - started:.0f} s"
        + (f" · loaded: {busy} busy-loop process(es) beside it" if busy else " · idle: no load added"),
    ]
    notes = [f"{m.variant.name}: {m.variant.note}" for m in results if m.variant.note]
    if notes:
        lines.append("Builds: " + "; ".join(notes))
    return "\n".join(lines)


def floor_ratio(measured: Measured, results: list[Measured], *, job: bool = False) -> float | None:
    """This row's cold start p50 over its stack floor's (`job`: the floor doing the job's), measured in the same run
    (None without one)."""
    wanted = measured.variant.over_job if job else measured.variant.over
    floor = next((m for m in results if m.variant.name == wanted), None)
    if floor is None:
        return None
    return _p50([c["cold_ms"] for c in measured.cold]) / _p50([c["cold_ms"] for c in floor.cold])


def render_components(figures: dict[str, float], warm_p50: float) -> str:
    rows = [
        "",
        f"Where a warm invocation's time goes (this project's artifact, p50 µs excluding the network; "
        f"the whole handler: {warm_p50:.0f} µs):",
        "",
        "| building block | µs p50 |",
        "|---|---|",
    ]
    rows += [f"| {name} | {value:.0f} |" for name, value in figures.items()]
    return "\n".join(rows)


def targets(results: list[Measured]) -> str:
    by_name = {m.variant.name: m for m in results}
    project, baseline = by_name.get("this project"), by_name.get("baseline: typical Powertools")
    if project is None or baseline is None:
        return ""
    ratio = _p50([c["cold_ms"] for c in project.cold]) / _p50([c["cold_ms"] for c in baseline.cold])
    checks = [(f"cold start ≤ 0.5x baseline: {ratio:.2f}x", ratio <= 0.5)]
    for m in (project, by_name.get("this project, no extension layer")):
        over = floor_ratio(m, results) if m is not None else None
        if m is not None and over is not None:
            path = "extension path" if m.variant.over == STACK_FLOOR_NO_BOTO3 else "boto3 path"
            text = f"cold start ≤ {STACK_FLOOR_TARGET:.2f}x the stack floor, {path}: {over:.2f}x"
            checks.append((text, over <= STACK_FLOOR_TARGET))
        over_job = floor_ratio(m, results, job=True) if m is not None else None
        if m is not None and over_job is not None:
            path = "extension path" if m.variant.over_job == JOB_FLOOR_EXTENSION else "boto3 path"
            text = f"cold start ≤ {STACK_FLOOR_TARGET:.2f}x the stack floor doing the job, {path}: {over_job:.2f}x"
            checks.append((text, over_job <= STACK_FLOOR_TARGET))
    checks += [
        (f"warm overhead ≤ 100 µs p50: {project.warm['warm_p50_us']:.0f} µs", project.warm["warm_p50_us"] <= 100),
        (
            f"1 TCP connection to Paddle: {project.counts['paddle_connections']}",
            project.counts["paddle_connections"] == 1,
        ),
        (
            f"≤ 1 Secrets Manager call per TTL: {project.counts['secrets_manager_calls']}",
            project.counts["secrets_manager_calls"] <= 1,
        ),
        (f"0 modules compiled from source: {len(project.compiled)}", not project.compiled),
    ]
    return "Targets (this project): " + " · ".join(f"{'met' if ok else 'NOT met'}: {text}" for text, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cold", type=int, default=15, help="fresh processes per variant (default 15)")
    parser.add_argument("--warm", type=int, default=1000, help="warm invocations per variant (default 1000)")
    parser.add_argument(
        "--candidates",
        action="store_true",
        help="also measure the build steps undone one at a time (bench/candidates/)",
    )
    parser.add_argument(
        "--only", help="comma-separated substrings: measure only the variants (candidates included) whose name has one"
    )
    parser.add_argument("--unsampled", action="store_true", help="X-Ray trace header Sampled=0 (default: 1)")
    parser.add_argument(
        "--components",
        type=int,
        default=1000,
        metavar="N",
        help="time the building blocks of the warm path N times each (0: skip; default 1000)",
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        metavar="N",
        help="a loaded machine: N busy-loop processes run beside the measurement and are stopped after it "
        f"(each also stops by itself after {BUSY_MAX_SECONDS} s)",
    )
    parser.add_argument("--json", type=Path, help="also write every raw figure to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also write, for each variant, a cProfile of its import and first invocation (DIR/<variant>.prof; "
        "read with python -m pstats) and python -X importtime's report of the same (DIR/<variant>.importtime.txt), "
        "from two extra, untimed runs",
    )
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 13):
        print(f"bench needs Python 3.13 (the Lambda runtime's); this is {platform.python_version()}", file=sys.stderr)
        return 2
    busy = [start_busy_loop() for _ in range(args.busy)]
    try:
        return _run(args)
    finally:
        for process in busy:
            process.kill()
            process.wait()


BUSY_MAX_SECONDS = 1200
BUSY_LOOP = f"import time\nend = time.monotonic() + {BUSY_MAX_SECONDS}\nwhile time.monotonic() < end:\n    pass\n"


def start_busy_loop() -> subprocess.Popen[bytes]:
    """One core kept busy (what other tenants or a parallel test run do to a shared 2-core machine)."""
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP])  # noqa: S603 - our own interpreter


def _run(args: argparse.Namespace) -> int:
    started, load_before = time.monotonic(), f"{os.getloadavg()[0]:.1f}"
    figures: dict[str, float] = {}
    variants = core_variants() + (candidate_variants() if args.candidates or args.only else [])
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        variants = [v for v in variants if any(w in v.name for w in wanted)]
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scratch = Path(tmp)
        print(
            f"Building {len(variants)} artifacts (x86_64 twins of sam build's, cached in {CACHE})...", file=sys.stderr
        )
        results, left_out = [], []
        for i, v in enumerate(variants):
            try:
                results.append(Measured(v, build(v, scratch, i)))
            except artifacts.PatchError as stale:  # functions/ moved on: the row is left out, the run goes on
                print(f"  left out: {v.name}: {stale}", file=sys.stderr)
                left_out.append(v.name)
        servers = Servers(scratch / "tls")
        try:
            for m in results:
                print(f"  {m.variant.name}: warm run, python -v run", file=sys.stderr)
                servers.reset()
                m.warm = run_child(
                    m, servers, warm=args.warm, verbose=False, sampled=not args.unsampled, scratch=scratch
                )
                m.counts = servers.counts()
                run_child(m, servers, warm=0, verbose=True, sampled=not args.unsampled, scratch=scratch)
                if args.profile is not None:
                    print(f"  {m.variant.name}: cProfile run, -X importtime run", file=sys.stderr)
                    args.profile.mkdir(parents=True, exist_ok=True)
                    stem = (args.profile / slug(m.variant.name)).resolve()
                    for kind in ("profile", "importtime"):
                        servers.reset()
                        run_child(
                            m,
                            servers,
                            warm=0,
                            verbose=False,
                            sampled=not args.unsampled,
                            scratch=scratch,
                            **{kind: stem.with_suffix(".prof" if kind == "profile" else ".importtime.txt")},
                        )
                if m.variant.name == "this project" and args.components:
                    print("  this project: building blocks of the warm path", file=sys.stderr)
                    servers.reset()
                    figures = run_child(
                        m,
                        servers,
                        warm=0,
                        verbose=False,
                        sampled=not args.unsampled,
                        scratch=scratch,
                        components=args.components,
                    )["components"]
            print(f"  cold starts: {args.cold} rounds over {len(results)} variants", file=sys.stderr)
            for round_number in range(args.cold):
                # Interleaved, so drifting machine load spreads over every variant; in a new order each round, so no
                # row always follows the same neighbour (a heavy process before a light one slows it down by a few
                # ms: caches it evicted).
                order = list(results)
                random.Random(round_number).shuffle(order)  # noqa: S311 - an order, not a secret
                for m in order:
                    servers.reset()
                    m.cold.append(
                        run_child(m, servers, warm=0, verbose=False, sampled=not args.unsampled, scratch=scratch)
                    )
        finally:
            servers.close()
    print(
        render(
            results,
            cold=args.cold,
            warm=args.warm,
            sampled=not args.unsampled,
            started=started,
            load_before=load_before,
            busy=args.busy,
        )
    )
    if line := targets(results):
        print(line)
    if left_out:
        print("Left out (their diff no longer applies to functions/): " + "; ".join(left_out))
    project = next((m for m in results if m.variant.name == "this project"), None)
    if figures and project is not None:
        print(render_components(figures, project.warm["warm_p50_us"]))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "variant": m.variant.name,
                        "cold": m.cold,
                        "warm": m.warm,
                        "counts": m.counts,
                        "compiled": m.compiled,
                        "size_bytes": m.artifact.size_bytes(),
                    }
                    for m in results
                ],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
