"""`tallyman sim SCENARIO.toml [options]`: run a scenario and show, save and plot the results.

Only click and the strategy registry are imported to build the command, so `tallyman sim --help`
answers at once; NumPy, SimPy, Numba, SciPy, rich and matplotlib load when a run needs them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simulator.strategies import available
from tallyman.console import fail, json_option

if TYPE_CHECKING:
    from simulator.montecarlo.runner import Plan, Results
    from simulator.scenario.model import Scenario


def _strategy_list(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """`a,b` → ("a", "b"), each a known strategy."""
    if value is None:
        return None
    names = tuple(s.strip() for s in value.split(",") if s.strip())
    if not names:
        raise click.BadParameter("name at least one strategy")
    for name in names:
        if name not in available():
            raise click.BadParameter(
                f"unknown strategy {name!r} (choose from {', '.join(available())})"
            )
    return names


@click.command(name="sim")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replications",
    "-n",
    type=click.IntRange(min=1),
    help="replications per strategy (default: the scenario's [run] replications)",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="worker processes; results are the same for any number",
)
@click.option("--seed", type=int, help="master seed (default: the scenario's [run] seed)")
@click.option(
    "--strategies",
    metavar="A,B",
    callback=_strategy_list,
    help=f"comma-separated strategies to compare, from: {', '.join(available())} "
    "(default: the scenario's [run] strategies)",
)
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="horizon in days, more than the warm-up (default: the scenario's [run] days)",
)
@json_option
@click.option(
    "--out-json",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the JSON document to this file as well",
)
@click.option(
    "--report",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="write PNG plots and summary.md into this folder",
)
@click.option(
    "--from-central",
    metavar="URL",
    help=(
        "start from central's live stock, demand and observed lead times "
        "(central's address, with or without /api: http://central:8080)"
    ),
)
@click.option("--quiet", "-q", is_flag=True, help="no progress bar, table or file list")
def command(
    scenario: Path,
    replications: int | None,
    workers: int,
    seed: int | None,
    strategies: tuple[str, ...] | None,
    days: int | None,
    as_json: bool,
    out_json: Path | None,
    report: Path | None,
    from_central: str | None,
    quiet: bool,
) -> None:
    """Run a digital-twin scenario: replications × strategies on common random numbers, with
    KPIs and 95% confidence intervals.

    SCENARIO is a TOML file (see docs/simulator.md), e.g. examples/single_store.toml or
    examples/network/network.toml. Prints a table, or the JSON document with --json.
    """
    import atexit
    import gc

    # Loading (NumPy, SimPy, Numba's registries and kernels, the network) makes some 10^5
    # objects that live as long as the run, and no garbage: no collections while loading, then
    # frozen, so that no collection during the run walks them again (about a tenth of a
    # one-replication run, end to end). The garbage of whatever ran before is collected first,
    # so that it is not frozen with them, and all is thawed when the command ends, so that a
    # process that runs it many times (the tests) collects each run's objects as usual. A
    # process that exits freezes everything first: the collection at interpreter exit would
    # walk all of it again, for memory the process is about to give back (~0.1 s end to end).
    gc.collect()
    gc.disable()
    try:
        plan, notes = _prepare(scenario, days, from_central, replications, seed, strategies)
        gc.freeze()
    finally:
        gc.enable()
    atexit.unregister(gc.freeze)  # once, however many runs
    atexit.register(gc.freeze)
    try:
        _run(plan, notes, workers, as_json, out_json, report, quiet)
    finally:
        gc.unfreeze()


def _run(
    plan: Plan,
    notes: list[str],
    workers: int,
    as_json: bool,
    out_json: Path | None,
    report: Path | None,
    quiet: bool,
) -> None:
    """Run the replications and show the results."""
    from simulator.montecarlo import runner

    try:
        res = runner.execute(plan, workers=workers, progress=not quiet and sys.stderr.isatty())
    except ValueError as exc:  # a strategy refusing its parameters when installed
        fail(str(exc))
    res.notes += notes
    _show(res, as_json, out_json, report, quiet)


def _prepare(
    scenario: Path,
    days: int | None,
    central: str | None,
    replications: int | None,
    seed: int | None,
    strategies: tuple[str, ...] | None,
) -> tuple[Plan, list[str]]:
    """The run, ready to start: the scenario read and checked, the options applied, the network
    compiled and its kernels loaded; plus notes from a start at central's state."""
    from dataclasses import replace

    from simulator.montecarlo import runner
    from simulator.scenario import loader

    try:
        sc = loader.load(scenario)
        if days is not None:
            if days <= sc.run.warmup:
                fail(f"--days {days} must exceed the scenario's warm-up ({sc.run.warmup} days)")
            sc = replace(sc, run=replace(sc.run, days=days))
        notes: list[str] = []
        if central:
            sc, notes = _start_from_central(sc, central)
        plan = runner.prepare(sc, replications=replications, seed=seed, strategies=strategies)
    except ValueError as exc:  # ScenarioError and ConfigError are ValueErrors
        fail(str(exc))
    return plan, notes


def _show(
    res: Results, as_json: bool, out_json: Path | None, report: Path | None, quiet: bool
) -> None:
    """The table (or JSON on stdout), the JSON file and the report folder, as asked."""
    from simulator.output import tables

    if as_json or out_json:
        text = json.dumps(tables.to_json(res), indent=2)
        if out_json:
            out_json.write_text(text + "\n")
        if as_json:
            click.echo(text)
    if not as_json and not quiet:
        tables.print_table(res)
    if report:
        from simulator.output import report as plots

        files = plots.write(res, report)
        if not quiet:
            click.echo(f"report: {', '.join(str(f) for f in files)}", err=as_json)


def _start_from_central(sc: Scenario, url: str) -> tuple[Scenario, list[str]]:
    """The scenario restarted from central's state, and notes on what was assumed."""
    from simulator.scenario.live import LiveError, from_central

    try:
        return from_central(sc, url)
    except LiveError as exc:
        fail(str(exc))
