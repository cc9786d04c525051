"""`tallyman sim SCENARIO.toml [options]`: run a scenario and show, save and plot the results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tallyman sim",
        description="Run a digital-twin scenario: replications × strategies on common random "
        "numbers, KPIs with 95 percent confidence intervals.",
    )
    p.add_argument("scenario", help="scenario TOML file (see docs/simulator.md)")
    p.add_argument("--replications", "-n", type=int, help="replications (default: [run])")
    p.add_argument("--workers", "-j", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--seed", type=int, help="master seed (default: [run] seed)")
    p.add_argument("--strategies", help="comma-separated strategies (default: [run])")
    p.add_argument("--days", type=int, help="horizon in days (default: [run] days)")
    p.add_argument("--json", metavar="PATH", help="write results as JSON ('-' for stdout)")
    p.add_argument("--report", metavar="DIR", help="write PNG plots and summary.md here")
    p.add_argument("--from-central", metavar="URL", help="start from central's live state")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or table")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from dataclasses import replace

    from rich.console import Console

    from simulator.montecarlo import runner
    from simulator.output import tables as output
    from simulator.scenario import loader as scenario
    from simulator.scenario.live import LiveError, from_central
    from simulator.scenario.loader import ScenarioError
    from simulator.strategies import available

    err = Console(stderr=True)
    try:
        sc = scenario.load(args.scenario)
        if args.days:
            if args.days <= sc.run.warmup:
                raise ScenarioError(f"--days {args.days} must exceed the warm-up ({sc.run.warmup})")
            sc = replace(sc, run=replace(sc.run, days=args.days))
        notes: list[str] = []
        if args.from_central:
            sc, notes = from_central(sc, args.from_central)
        strategies = (
            tuple(s.strip() for s in args.strategies.split(",")) if args.strategies else None
        )
        for s in strategies or ():
            if s not in available():
                raise ScenarioError(f"unknown strategy {s!r} (known: {', '.join(available())})")
        if args.replications is not None and args.replications < 1:
            raise ScenarioError("--replications must be at least 1")
        res = runner.run(
            sc,
            replications=args.replications,
            workers=max(1, args.workers),
            seed=args.seed,
            strategies=strategies,
            progress=not args.quiet and sys.stderr.isatty(),
        )
    except (ScenarioError, LiveError, ValueError) as exc:
        err.print(f"[red]tallyman sim:[/] {exc}")
        return 2
    res.notes += notes
    out = Console(stderr=args.json == "-")  # keep stdout pure JSON with --json -
    if not args.quiet:
        output.print_table(res, out)
    if args.json:
        text = json.dumps(output.to_json(res), indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    if args.report:
        from simulator.output import report

        files = report.write(res, args.report)
        if not args.quiet:
            out.print(f"report: {', '.join(str(f) for f in files)}")
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "sim")
