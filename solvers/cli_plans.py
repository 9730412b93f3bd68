"""The ``rechain stochastic`` and ``rechain alternatives`` commands: plans under uncertainty
and the near-optimal space of a plan (registered on the ``rechain`` app by
:mod:`rechain.solvers.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.table import Table

from rechain.model.atomic import atomic_write_folder
from rechain.model.formatting import fmt

from .cli import (OK, Debug, Fail, HighsOption, PathArg, Quiet, Scenarios, Steps, Threads, Verbose, parse_highs_options, _guard, _set_opts, _source_label, app, check_out, load, out, parse_time_limit,
                  replaceable)


def _write_tables(target: Path, force: bool, kind: str, tables: dict[str, pd.DataFrame]) -> None:
    def write(tmp: Path) -> None:
        for name, t in tables.items():
            t.to_csv(tmp / f"{name}.csv", index=False)

    atomic_write_folder(target, write, overwrite=force, replaceable=replaceable(kind))


@app.command(help=(
    "Two-stage stochastic plan: the new capacity to start up to --decide-through (default: the first year), "
    "shared by every scenario, with everything else chosen per scenario; least expected cost (or a CVaR mix), "
    "with the wait-and-see cost, EVPI, the expected-value plan evaluated on the scenarios (EEV) and VSS.\n\n"
    "Scenarios are named scenarios of the instance ('base' for the instance as it is), equally likely unless "
    "--probability is given once per scenario, in the same order.\n\n"
    "Examples:\n\n\b\n"
    "  rechain stochastic --scenario base --scenario nev_boom --scenario heavy_re_shock --decide-through 2022\n"
    "  rechain stochastic -s base -s heavy_re_shock -p 0.8 -p 0.2 --cvar-alpha 0.9 --cvar-weight 0.5 --out results/hedged"
))
def stochastic(
    path: PathArg = None,
    scenario: Annotated[list[str], typer.Option("--scenario", "-s", metavar="NAME", help="A named scenario ('base': the instance itself); repeat, at least one.")] = [],
    probability: Annotated[list[float], typer.Option("--probability", "-p", metavar="P", help="Probability of each --scenario, in order (default: equal).")] = [],
    decide_through: Annotated[Optional[int], typer.Option("--decide-through", metavar="YEAR", help="Last year whose new capacity is decided before the scenario is known.")] = None,
    cvar_alpha: Annotated[Optional[float], typer.Option("--cvar-alpha", metavar="ALPHA", help="Minimise a mix with CVaR at this level (0 <= alpha < 1).")] = None,
    cvar_weight: Annotated[float, typer.Option("--cvar-weight", metavar="W", help="Weight of CVaR in the mix (1: CVaR alone).")] = 1.0,
    no_measures: Annotated[bool, typer.Option("--no-measures", help="Skip wait-and-see, EVPI, EEV and VSS (one solve per scenario less).")] = False,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="S", help="Seconds for each solve.")] = None,
    highs_option: HighsOption = [], threads: Threads = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Write first_stage.csv, summary.csv, measures.csv and the per-scenario tables here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous output folder of this command (never the instance or another folder).")] = False,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.solvers.stochastic import stochastic as run

        parse_time_limit(time_limit)
        if not scenario:
            raise Fail("give the scenarios with --scenario NAME (repeatable; 'base' for the instance itself)")
        if probability and len(probability) != len(scenario):
            raise Fail(f"--probability: {len(probability)} given for {len(scenario)} scenarios (one each, in order)")
        risk = None if cvar_alpha is None else {"alpha": cvar_alpha, "weight": cvar_weight}
        with Steps() as steps:
            with steps.step("loading the instance"):
                inst, src = load(path)
                unknown = [s for s in scenario if s != "base" and s not in inst.scenarios]
                if unknown:
                    raise Fail(f"--scenario {', '.join(unknown)}: not a scenario of {inst.name} "
                               f"(it has: {', '.join(inst.scenarios) or 'none'})")
                if out_dir is not None:
                    check_out(out_dir, force, "stochastic", protect=((src, _source_label(src)),))
            with steps.step(f"building and solving the extensive form of {len(scenario)} scenarios"):
                try:
                    res = run(inst, list(scenario), probabilities=list(probability) or None, decide_through=decide_through,
                              risk=risk, time_limit=time_limit, measures=not no_measures,
                              highs=parse_highs_options(highs_option, threads))
                except ValueError as e:
                    raise Fail(str(e)) from None
        for line in res.describe():
            out.print(line, markup=False)
        if res.status != "optimal":
            return 4
        money = inst.units.get("money", "")
        t = Table(title=f"Scenario costs ({money}, discounted)")
        s = res.scenarios.summary
        for c in s.columns:
            t.add_column(c, justify="left" if c == "scenario" else "right")
        for row in s.itertuples(index=False):
            t.add_row(*[str(v) if isinstance(v, str) else fmt(v) for v in row])
        out.print(t)
        if out_dir is not None:
            measures = pd.DataFrame({"measure": ["objective", "expected_cost", "wait_and_see", "evpi", "eev", "vss"],
                                     "value": [res.objective, res.expected_cost, res.wait_and_see, res.evpi, res.eev, res.vss]})
            _write_tables(out_dir, force, "stochastic", {"first_stage": res.first_stage, "summary": s, "measures": measures,
                                           **res.scenarios.tables})
            out.print(f"results written to {out_dir}", markup=False)
        return OK

    _guard(body)


@app.command(help=(
    "Near-optimal alternatives: plans within --slack of the least cost that build the most and the least of each "
    "group (new capacity by stage and region by default), found by re-solving with the cost held within the slack.\n\n"
    "Examples:\n\n\b\n"
    "  rechain alternatives --slack 0.05\n"
    "  rechain alternatives --slack 0.02 --over process --quantity activity --out results/near_optimal"
))
def alternatives(
    path: PathArg = None,
    scenario: Scenarios = [],
    slack: Annotated[float, typer.Option("--slack", metavar="SHARE", help="Extra cost allowed, as a share of the optimum (0.05 = 5 %).")] = 0.05,
    over: Annotated[str, typer.Option("--over", metavar="stage|process", help="Groups: stage (by stage and region) or process (by process and region).")] = "",
    quantity: Annotated[str, typer.Option("--quantity", metavar="new|activity", help="new (capacity started) or activity (plant output).")] = "new",
    directions: Annotated[str, typer.Option("--directions", metavar="minmax|random", help="minmax (each group down and up) or random.")] = "minmax",
    n: Annotated[Optional[int], typer.Option("--n", metavar="N", help="At most this many alternatives.")] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the random directions.")] = 0,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="S", help="Seconds for each solve.")] = None,
    highs_option: HighsOption = [], threads: Threads = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Write objectives.csv, plans.csv and ranges.csv here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous output folder of this command (never the instance or another folder).")] = False,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.solvers.alternatives import alternatives as run

        parse_time_limit(time_limit)
        if over not in ("", "stage", "process"):
            raise Fail(f"--over {over!r}: expected stage or process")
        with Steps() as steps:
            with steps.step("loading the instance"):
                inst, src = load(path, scenario)
                if out_dir is not None:
                    check_out(out_dir, force, "alternatives", protect=((src, _source_label(src)),))
            with steps.step("solving the optimum and its alternatives"):
                try:
                    res = run(inst, slack=slack, n=n, over=over or None, quantity=quantity, directions=directions,
                              seed=seed, time_limit=time_limit, highs=parse_highs_options(highs_option, threads))
                except ValueError as e:
                    raise Fail(str(e)) from None
        for line in res.describe():
            out.print(line, markup=False)
        if res.status != "optimal":
            return 4
        if out_dir is not None:
            _write_tables(out_dir, force, "alternatives", {"objectives": res.objectives.reset_index(), "plans": res.plans, "ranges": res.ranges})
            out.print(f"results written to {out_dir}", markup=False)
        return OK

    _guard(body)
