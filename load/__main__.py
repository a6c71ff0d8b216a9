"""`python -m load [--short] [--environments N]`: the four load scenarios, their table, and their goals (exit 1 when a
goal is missed). Loopback only; every scenario stops by itself (about 90 s in all, 30 s with --short)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from load.harness import Harness, Result, every
from local.paddle_fake import paddle_id
from local.throttle import reserved_concurrency

HEADER = (
    "| scenario | caller | offered | served | 429 gateway | 429 function | Paddle req/invocation | p50 ms | p99 ms |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def scenarios(h: Harness, seconds: float, which: str) -> list[tuple[Result, list[str]]]:
    """Each scenario's result and the goals it missed."""
    users = h.users
    others, scripted = users[:5], users[5]
    out: list[tuple[Result, list[str]]] = []

    def links(rate: float, phase: float = 0.0) -> list[tuple[float, str, str, Any]]:
        schedule = []
        for t in every(1 / rate, seconds, phase):
            customer = paddle_id("ctm_")  # campaign recipients: one click each
            schedule.append((t, "links", customer, lambda c=customer: h.follow_link(c)))
        return schedule

    def clicks() -> list[tuple[float, str, str | None, Any]]:
        return [
            (t, "customers", user.customer_id, lambda u=user: h.click(u))
            for n, user in enumerate(others)
            for t in every(5.0, seconds, phase=n)
        ]

    if "a" in which:
        backends = [paddle_id("ctm_") for _ in range(20)]
        schedule = [
            *links(1.0),
            *clicks(),
            *[
                (t, "backend", backends[n % 20], lambda c=backends[n % 20]: h.backend(c))
                for n, t in enumerate(every(2.0, seconds, 0.5))
            ],
        ]
        result = h.run("a normal", seconds, schedule)
        missed = [
            f"{c}: {result.served(c)}/{result.offered(c)} served"
            for c in ("links", "customers", "backend")
            if result.served(c) < result.offered(c)
        ]
        missed += [
            f"{c}: {result.per_invocation(c):.2f} Paddle requests/invocation"
            for c in ("links", "customers")
            if result.per_invocation(c) > 1.0
        ]
        out.append((result, missed))
    for factor in (2, 10) if "b" in which else ():
        result = h.run(f"b Paddle {factor}x", seconds, links(4.0 * factor))
        missed = []
        if result.per_invocation("links") > 1.3:
            missed.append(f"{result.per_invocation('links'):.2f} Paddle requests/invocation (goal <= 1.3)")
        if result.goodput() < 0.9:
            missed.append(f"goodput {100 * result.goodput():.0f}% of Paddle's capacity (goal >= 90%)")
        out.append((result, missed))
    if "c" in which:
        flood = [(t, "flood", None, lambda n=n: h.garbage(n)) for n, t in enumerate(every(1 / 20, seconds))]
        result = h.run("c bad-link flood 20/s", seconds, [*flood, *clicks(), *links(1.0, 0.3)])
        out.append((result, _others_served(result, ("customers", "links"))))
    if "d" in which:
        script = [(t, "script", scripted.customer_id, lambda: h.script(scripted)) for t in every(1 / 20, seconds)]
        result = h.run("d one customer 20/s", seconds, [*script, *clicks()])
        out.append((result, _others_served(result, ("customers",))))
    return out


def _others_served(result: Result, callers: tuple[str, ...]) -> list[str]:
    return [
        f"{c}: {result.served(c)}/{result.offered(c)} served (goal >= 99%)"
        for c in callers
        if result.offered(c) and result.served(c) < 0.99 * result.offered(c)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--short", action="store_true", help="8 s scenarios: a quick look (goodput reads low)")
    parser.add_argument(
        "--environments",
        type=int,
        default=reserved_concurrency(),
        help="execution environments (worker processes; default: the function's reserved concurrency)",
    )
    parser.add_argument("--scenarios", default="abcd")
    args = parser.parse_args(argv)
    seconds = 8.0 if args.short else 15.0
    harness = Harness(environments=args.environments)
    try:
        results = scenarios(harness, seconds, args.scenarios)
    finally:
        harness.close()
    print(
        f"{args.environments} execution environments; Paddle stand-in 4 req/s, burst 10, 100 ms an answer; "
        f"{seconds:.0f} s a scenario"
    )
    print(HEADER)
    for result, _ in results:
        print("\n".join(result.rows()))
    failed = False
    for result, missed in results:
        goodput = f"; Paddle goodput {100 * result.goodput():.0f}% of capacity" if result.name.startswith("b") else ""
        print(f"{result.name}: {'goal met' if not missed else 'MISSED: ' + '; '.join(missed)}{goodput}")
        failed = failed or bool(missed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
