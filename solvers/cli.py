"""The ``rechain`` command line: solve, validate, graph, report, compare, scenarios, init, sweep,
stochastic and alternatives (the last two in :mod:`rechain.solvers.cli_plans`).

Exit codes (every command):

====  ==========================================================================================
0     success (``solve``: an optimal plan)
2     invalid input: a broken instance (each problem printed on its own line), a bad option,
      a missing or damaged folder, an output folder that exists (pass ``--force`` to replace
      it) or that is never written (the instance, the current directory, anything that is
      not a previous output of the command: see :func:`check_out`), or an output folder the
      system refuses (disk full, no permission)
3     ``solve``: the instance is infeasible (an explanation follows) or unbounded
4     ``solve``: solver error, or the time limit reached before an optimum (no plan is written:
      a time-limited, unproven plan is not reported as a result)
5     ``sweep``: scenarios lost to worker faults (a worker died or froze on every attempt at
      their chunk): status ``lost`` in the summary, with a ``reason``; the other scenarios'
      results are written as usual. Without lost scenarios, a sweep exits 0 when every
      scenario is optimal, else with the code of the first one that is not (3 or 4)
====  ==========================================================================================

Errors are printed without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rechain.model import InstanceError, Problem
from rechain.model.atomic import OutputError, OutputRefused
from rechain.model.formatting import fmt

OK, INVALID, INFEASIBLE, SOLVER_ERROR, LOST = 0, 2, 3, 4, 5
STATUS_EXIT = {"optimal": OK, "infeasible": INFEASIBLE, "unbounded": INFEASIBLE, "time_limit": SOLVER_ERROR, "error": SOLVER_ERROR}

out = Console(highlight=False, soft_wrap=True, markup=False)  # names and paths may hold [brackets]: never markup
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="rechain",
    help=(
        "Plan the rare-earth permanent-magnet supply chain: a least-cost capacity-expansion LP.\n\n"
        "Examples:\n\n\b\n"
        "  rechain solve                                  # the shipped default instance\n"
        "  rechain solve --scenario nev_boom --out results/nev_boom --report\n"
        "  rechain validate my_instance/\n"
        "  rechain compare results/base results/nev_boom\n\n"
        "Exit codes: 0 ok, 2 invalid input, 3 infeasible or unbounded, 4 solver error or time limit, "
        "5 sweep: scenarios lost to worker faults."
    ),
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"rechain {package_version()}", markup=False)
        raise typer.Exit(0)


def package_version() -> str:
    """The installed version of rechain (its package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rechain")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
        return "unknown (not installed)"


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="Print the version of rechain and exit.")] = False) -> None:
    """Plan the rare-earth permanent-magnet supply chain."""


class Opts:
    """The output options of the command running now (set anew by every command, so one
    call's ``--quiet`` never silences a later call in the same process)."""

    quiet = False
    verbose = False
    debug = False


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors (no progress).")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show the solver log and timings.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]


def _set_opts(quiet=False, verbose=False, debug=False):
    Opts.quiet, Opts.verbose, Opts.debug = bool(quiet), bool(verbose), bool(debug)


class Fail(Exception):
    """An error for people: its message is printed, then the process exits with ``code``."""

    def __init__(self, message: str, code: int = INVALID):
        super().__init__(message)
        self.code = code


def _problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    n = len(errors)
    err.print(f"[red]invalid input[/red]: {n} problem{'s' if n != 1 else ''}", markup=True)
    for p in problems:
        err.print(str(p), markup=False)


def _guard(fn):
    """Run a command body: people-readable errors and exit codes, tracebacks only with --debug."""
    try:
        code = fn()
    except typer.Exit:
        raise
    except InstanceError as e:
        if Opts.debug:
            err.print_exception()
        _problems(e.problems)
        code = INVALID
    except Fail as e:
        if Opts.debug:
            err.print_exception()
        err.print(f"error: {e}", markup=False)
        code = e.code
    except OutputRefused as e:
        if Opts.debug:
            err.print_exception()
        err.print(f"error: {e.message('--force')}", markup=False)
        code = INVALID
    except OutputError as e:
        if Opts.debug:
            err.print_exception()
        err.print(f"error: {e}", markup=False)
        code = INVALID
    except (FileNotFoundError, FileExistsError, NotADirectoryError) as e:
        if Opts.debug:
            err.print_exception()
        err.print(f"error: {e}", markup=False)
        code = INVALID
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    except Exception as e:  # anything else is a bug or a solver failure: say so plainly
        if Opts.debug:
            err.print_exception()
        err.print(f"error: {type(e).__name__}: {e}", markup=False)
        if not Opts.debug:
            err.print("(run again with --debug to see the traceback)", markup=False)
        code = SOLVER_ERROR
    raise typer.Exit(code or 0)


class Steps:
    """Progress of the phases of a command (on stderr); silent with --quiet."""

    def __init__(self):
        self.progress = None
        if not Opts.quiet:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(finished_text="[green]✓[/green]"), TextColumn("{task.description}", markup=False),
                                     TimeElapsedColumn(), console=err, transient=False)

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *a):
        if self.progress:
            self.progress.stop()

    @contextlib.contextmanager
    def step(self, text: str):
        task = self.progress.add_task(text, total=1) if self.progress else None
        try:
            yield
        except BaseException:
            if task is not None:
                self.progress.update(task, visible=False)
                self.progress.console.print(f"[red]✗[/red] {escape(text)}: failed")
            raise
        if task is not None:
            self.progress.update(task, completed=1)


# --------------------------------------------------------------------------------------------
# Changes on the command line
# --------------------------------------------------------------------------------------------

_CHANGE = re.compile(r"^\s*(?P<table>[A-Za-z_]\w*)\.(?P<column>[A-Za-z_]\w*)\s*(?:\[(?P<where>[^\]]*)\])?\s*=(?P<value>.*)$")


def parse_change(text: str, kind: str) -> dict:
    """``TABLE.COLUMN[col=value;col=value]=VALUE`` as a change mapping for ``with_changes``
    (``kind`` is ``set`` or ``scale``; for ``scale`` the value is the factor)."""
    m = _CHANGE.match(text)
    if not m:
        raise Fail(f"--{kind} {text!r}: expected TABLE.COLUMN[COLUMN=VALUE;...]=VALUE, e.g. "
                   f"\"demand.quantity[commodity=ev;region=south]={'1.2' if kind == 'scale' else '20'}\"")
    where = {}
    for part in re.split(r"[;,]", m.group("where") or ""):
        if not part.strip():
            continue
        if "=" not in part:
            raise Fail(f"--{kind} {text!r}: the selection {part.strip()!r} is not COLUMN=VALUE")
        k, v = part.split("=", 1)
        where[k.strip()] = v.strip()
    value = m.group("value").strip()
    ch = {"table": m.group("table"), "column": m.group("column")}
    if where:
        ch["where"] = where
    if kind == "scale":
        try:
            ch["scale"] = float(value)
        except ValueError:
            raise Fail(f"--scale {text!r}: the factor {value!r} is not a number") from None
    else:
        ch["set"] = value
    return ch


def parse_time_limit(seconds: float | None) -> float | None:
    """``--time-limit`` as seconds > 0 (None: no limit), else an input error (exit 2)."""
    from .direct import check_time_limit

    try:
        return check_time_limit(seconds, positive=True)
    except ValueError:
        raise Fail(f"--time-limit {seconds!r}: expected a number of seconds > 0") from None


HighsOption = Annotated[list[str], typer.Option("--highs-option", metavar="KEY=VALUE", help="A HiGHS option KEY=VALUE (repeatable), e.g. solver=ipm, mip_rel_gap=0.01.")]
Threads = Annotated[Optional[int], typer.Option("--threads", metavar="N", help="Threads HiGHS may use (its option 'threads').")]


def parse_highs_options(items: list[str], threads: int | None = None) -> dict:
    """``--highs-option KEY=VALUE`` (repeatable) and ``--threads`` as HiGHS options, each checked
    by HiGHS itself before anything is solved: an unknown name or a value out of range is an
    input error (exit 2)."""
    from .direct import _set_options, new_highs

    opts: dict = {}
    for text in items:
        key, sep, value = text.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise Fail(f"--highs-option {text!r}: expected KEY=VALUE, e.g. solver=ipm")
        opts[key] = _option_value(value)
    if threads is not None:
        if threads < 1:
            raise Fail(f"--threads {threads}: expected a whole number >= 1")
        opts["threads"] = int(threads)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    for key, value in opts.items():
        try:
            _set_options(h, {key: value})
        except (ValueError, TypeError):
            known = _highs_option_names(h)
            hint = difflib.get_close_matches(key, known, n=1)
            raise Fail(f"--highs-option {key}={value}: HiGHS refused it" + (
                f" (no option '{key}'; did you mean '{hint[0]}'?)" if key not in known and hint else
                f" (no option '{key}')" if key not in known else " (a value out of its range or of the wrong type)")) from None
    return opts


def _option_value(text: str):
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _highs_option_names(h) -> list[str]:
    try:
        return list(h.getOptions().records.keys()) if hasattr(h.getOptions(), "records") else [
            k for k in dir(h.getOptions()) if not k.startswith("_")]
    except Exception:  # an older highspy without the listing: no hint
        return []


def parse_years(text: str) -> tuple[int | None, int | None]:
    m = re.fullmatch(r"\s*(\d{4})?\s*:\s*(\d{4})?\s*", text or "")
    if not m or not (m.group(1) or m.group(2)):
        raise Fail(f"--years {text!r}: expected FIRST:LAST, e.g. 2021:2023 (either side may be left out)")
    return (int(m.group(1)) if m.group(1) else None, int(m.group(2)) if m.group(2) else None)


def _instance_path(path: Optional[Path]) -> Path:
    import rechain.instances as shipped

    if path is None:
        return shipped.path()
    if not path.exists():
        # a shipped instance by name, e.g. `rechain solve toy`
        if str(path) in shipped.names():
            return shipped.path(str(path))
        raise Fail(f"{path}: no such instance folder or workbook (shipped instances: {', '.join(shipped.names())})")
    return path


def load(path: Optional[Path], scenarios=(), sets=(), scales=(), years: str | None = None):
    from rechain.model import load_instance

    p = _instance_path(path)
    inst = load_instance(p)
    names = [n for s in scenarios for n in str(s).split("+") if n]
    if names:
        inst = inst.with_scenario(*names, source="--scenario")
    # a problem of an option is located at the option (the instance's files are not to blame)
    for kind, items in (("scale", scales), ("set", sets)):
        for text in items:
            ch = parse_change(text, kind)
            inst = inst.with_changes([ch], label=text.strip() if kind == "set" else f"{text.rsplit('=', 1)[0].strip()}*{ch['scale']:g}",
                                     where_from="", file=f"--{kind} {text!r}")
    if years:
        first, last = parse_years(years)
        inst = inst.with_years(first, last, source=f"--years {years!r}")
    return inst, p


#: what each command's output folder is, and how a previous one is recognised (a folder of
#: another kind is never replaced, with --force or not)
OUTPUT_KINDS = {
    "results": ("a results folder", ("summary.json",)),
    "sweep": ("a sweep folder", ("summary.csv", "parameters.csv")),
    "report": ("a report folder", ("report.html",)),
    "instance": ("an instance folder", ("instance.yaml",)),
    "stochastic": ("a stochastic plan folder", ("first_stage.csv", "measures.csv")),
    "alternatives": ("an alternatives folder", ("objectives.csv", "plans.csv", "ranges.csv")),
}


def replaceable(kind: str):
    """The test ``atomic_write_folder`` applies to an existing folder before replacing it: None
    for a previous output of ``kind``, else why it is not one."""
    what, files = OUTPUT_KINDS[kind]

    def test(path: Path) -> str | None:
        missing = [f for f in files if not (path / f).is_file()]
        return f"is not {what} (no {', '.join(missing)})" if missing else None

    return test


def check_out(path: Path, force: bool, kind: str, protect: tuple = ()) -> None:
    """Refuse (exit 2) an output folder that must not be written, before any work is done:
    see :func:`rechain.model.atomic.check_output`; the write checks again, under its lock."""
    from rechain.model.atomic import check_output

    check_output(path, force, replaceable(kind), protect)


def _source_label(src: Path) -> str:
    return "the instance workbook" if Path(src).is_file() else "the instance folder"


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(text: str) -> str:
    """``text`` as one file name of ``[A-Za-z0-9_.-]``: other characters become ``_``, and so do
    ``..`` and a leading dot (never a parent folder, never hidden)."""
    s = _UNSAFE.sub("_", str(text))
    s = re.sub(r"\.{2,}", "_", s)
    s = re.sub(r"^\.", "_", s)
    return s or "_"


MAX_PART = 80  # characters of one change in a default folder name (a file name holds 255)


def default_target(name: str, scenarios=(), changes=()) -> Path:
    """``results/<name>[+<scenario>...][+<change>...]`` with every part made a safe file name:
    an instance's or a scenario's name is never used as a path. ``changes`` are the
    ``--set``/``--scale``/``--years`` what-ifs, in words (``demand.quantity[commodity=ev]*1.2``),
    so a what-if never lands in the folder of the base; a long one is cut, with a hash of
    the whole kept, so two long changes still differ."""
    import hashlib

    parts = [safe_name(name)] + [safe_name(p) for s in scenarios for p in str(s).split("+") if p]
    for ch in changes:
        part = safe_name(ch)
        if len(part) > MAX_PART:
            part = part[:MAX_PART - 9] + "_" + hashlib.sha256(str(ch).encode()).hexdigest()[:8]
        parts.append(part)
    target = Path("results") / "+".join(parts)
    if target.resolve().parent != Path("results").resolve():  # cannot happen with safe names: a last guard
        raise Fail(f"the default results folder {target} would not be inside ./results: give --out")
    return target


# --------------------------------------------------------------------------------------------
# Numbers and tables for the terminal
# --------------------------------------------------------------------------------------------


def summary_tables(result, instance) -> list:
    """Rich renderables: status line, capacity additions, binding policies, unmet demand."""
    money = instance.units.get("money", "")
    parts = []
    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_row("instance", f"{instance.name}" + (f" (scenario {instance.scenario})" if instance.scenario else ""))
    head.add_row("years", f"{instance.first_year}-{instance.last_year}")
    head.add_row("status", result.status)
    if result.objective is not None:
        head.add_row("objective", f"{fmt(result.objective)} {money} (discounted to {instance.base_year})")
    if result.ok and len(result.investment):
        head.add_row("capital", f"{fmt(result.investment['overnight'].sum())} {money} committed to new plant "
                                "(overnight capex, undiscounted, not annualised)")
    t = result.timings
    if t:
        head.add_row("time", ", ".join(f"{k} {v:.2f} s" for k, v in t.items() if k in ("build", "solve", "extract", "total")))
    parts.append(head)
    if not result.ok:
        return parts
    com_unit = dict(zip(instance.commodities["commodity"], instance.commodities["unit"].fillna("")))
    io = instance.process_io
    ref = io[io["reference"]]
    punit = {p: com_unit.get(c, "") for p, c in zip(ref["process"], ref["commodity"])}

    cap = result.capacity
    new = cap[cap["new"] > 1e-9].groupby(["process", "region"], as_index=False)["new"].sum()
    new = new.sort_values("new", ascending=False)
    tb = Table(title="Top capacity additions (new capacity started, summed over the years)", title_justify="left")
    for c in ("process", "region", "new", "unit/y"):
        tb.add_column(c, justify="right" if c == "new" else "left")
    for r in new.head(8).itertuples():
        tb.add_row(r.process, r.region, fmt(r.new), punit.get(r.process, ""))
    if not len(new):
        tb.add_row("(none)", "", "", "")
    parts.append(tb)

    pol = result.policies
    binding = pol[(pol["shadow_price"].abs() > 1e-9) | (pol["violation"] > 1e-9)]
    tb = Table(title=f"Binding policies (shadow price: {money} per unit more of the policy's value)", title_justify="left")
    for c in ("policy", "year", "shadow price", "violation"):
        tb.add_column(c, justify="left" if c == "policy" else "right")
    for r in binding.itertuples():
        tb.add_row(r.policy, str(int(r.year)), fmt(r.shadow_price), fmt(r.violation))
    if not len(binding):
        tb.add_row("(none)", "", "", "")
    parts.append(tb)

    un = result.unmet
    un = un[un["quantity"] > 1e-9]
    dem = instance.demand.set_index(["commodity", "region", "year"])["quantity"]
    tb = Table(title="Unmet demand", title_justify="left")
    for c in ("commodity", "region", "year", "unmet", "of demand", "unit"):
        tb.add_column(c, justify="left" if c in ("commodity", "region", "unit") else "right")
    for r in un.itertuples():
        d = float(dem.get((r.commodity, r.region, int(r.year)), float("nan")))
        share = f"{100 * r.quantity / d:.1f} %" if d and not math.isnan(d) else "-"
        tb.add_row(r.commodity, r.region, str(int(r.year)), fmt(r.quantity), share, com_unit.get(r.commodity, ""))
    if not len(un):
        tb.add_row("(none: all demand met)", "", "", "", "", "")
    parts.append(tb)

    dr = result.demand_response
    dr = dr[dr["unmet"] > 1e-9]
    if len(dr):
        tb = Table(title=f"Demand curve steps in use (demand given up at the step's price, {money} a unit)", title_justify="left")
        for c in ("commodity", "region", "year", "step", "unmet", "of its step", "price", "unit"):
            tb.add_column(c, justify="left" if c in ("commodity", "region", "unit") else "right")
        for r in dr.head(12).itertuples():
            d = float(dem.get((r.commodity, r.region, int(r.year)), float("nan")))
            full = f"{100 * r.unmet / (r.share * d):.0f} %" if d and not math.isnan(d) else "-"
            tb.add_row(r.commodity, r.region, str(int(r.year)), str(int(r.step)), fmt(r.unmet), full, fmt(r.price), r.unit)
        parts.append(tb)

    st = result.stock
    if len(st):
        tb = Table(title="Stocks at the end of each year", title_justify="left")
        years = sorted(set(st["year"]))
        for c in ["commodity", "region"] + [str(y) for y in years] + ["unit"]:
            tb.add_column(c, justify="left" if c in ("commodity", "region", "unit") else "right")
        for (c, r), grp in st.groupby(["commodity", "region"], sort=False):
            lv = dict(zip(grp["year"], grp["level"]))
            tb.add_row(c, r, *[fmt(lv.get(y)) for y in years], grp["unit"].iloc[0])
        parts.append(tb)
    return parts


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------

Scenarios = Annotated[list[str], typer.Option("--scenario", "-s", metavar="NAME", help="Named scenario of instance.yaml (repeatable; applied in order).")]
Sets = Annotated[list[str], typer.Option("--set", metavar="CHANGE", help="Replace values: TABLE.COLUMN[COLUMN=VALUE;...]=VALUE (repeatable).")]
Scales = Annotated[list[str], typer.Option("--scale", metavar="CHANGE", help="Multiply values: TABLE.COLUMN[COLUMN=VALUE;...]=FACTOR (repeatable).")]
PathArg = Annotated[Optional[Path], typer.Argument(metavar="PATH", help="Instance folder or .xlsx workbook, or the name of a shipped instance (default: the shipped default).", show_default=False)]


@app.command(help=(
    "Solve an instance and print a summary (status, objective, capacity additions, binding policies, unmet demand).\n\n"
    "Examples:\n\n\b\n"
    "  rechain solve\n"
    "  rechain solve toy --scenario ev_boom --out results/ev_boom --report\n"
    "  rechain solve --set \"demand.quantity[commodity=nev;year=2025]=20000\" --out results/more_nev\n"
    "  rechain solve --scale \"demand.quantity[commodity=nev]=1.3\" --years 2021:2023 --lp model.lp\n\n"
    "Changes apply in this order: --scenario (in the order given), --scale, --set, --years. "
    "Without --out nothing is written, except with --report, which writes results/<instance>[+<scenario>][+<change>...]."
))
def solve(
    path: PathArg = None,
    scenario: Scenarios = [],
    set_: Sets = [],
    scale: Scales = [],
    years: Annotated[Optional[str], typer.Option("--years", metavar="FIRST:LAST", help="Solve a sub-horizon FIRST:LAST.")] = None,
    solver: Annotated[str, typer.Option("--solver", metavar="NAME", help="highs, or any Pyomo solver installed.")] = "highs",
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="S", help="Seconds for the solver.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Write the results folder here.")] = None,
    format: Annotated[str, typer.Option("--format", metavar="csv|parquet|xlsx", help="Tables as csv, parquet or xlsx.")] = "csv",
    report: Annotated[bool, typer.Option("--report", help="Also write the report (report/report.html and PNG charts) into the results folder.")] = False,
    lp: Annotated[Optional[Path], typer.Option("--lp", metavar="FILE", help="Write the model with readable names to FILE (.lp or .mps) before solving.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous results folder (never the instance, the current directory or a folder that is not results).")] = False,
    explain: Annotated[bool, typer.Option("--explain/--no-explain", help="On infeasibility, explain it (elastic re-solve and IIS).")] = True,
    highs_option: HighsOption = [], threads: Threads = None,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        if format not in ("csv", "parquet", "xlsx"):
            raise Fail(f"--format {format!r}: expected csv, parquet or xlsx")
        if lp is not None and lp.suffix.lower() not in (".lp", ".mps"):
            raise Fail(f"--lp {lp}: expected a .lp or .mps file")
        parse_time_limit(time_limit)
        if solver in ("simplex", "ipm", "pdlp", "choose"):
            raise Fail(f"--solver {solver}: that is a value of HiGHS's own option 'solver': pass --highs-option solver={solver}")
        if solver != "highs" and (highs_option or threads is not None):
            raise Fail(f"--highs-option and --threads are options of HiGHS, not of --solver {solver}")
        highs_opts = parse_highs_options(highs_option, threads) if solver == "highs" else {}
        from rechain.solvers import solve as solve_model

        with Steps() as steps:
            with steps.step("loading the instance"):
                inst, src = load(path, scenario, set_, scale, years)
            target = out_dir
            if target is None and report:
                what_ifs = inst.applied[len([n for sc in scenario for n in str(sc).split("+") if n]):]
                target = default_target(inst.name, scenario, what_ifs + ([f"years{inst.first_year}-{inst.last_year}"] if years else []))
            if target is not None:
                check_out(target, force, "results", protect=((src, _source_label(src)),))
            direct = lp is None and solver == "highs"
            if direct:
                # the LP goes to HiGHS as arrays (no Pyomo model): the fast path
                with steps.step(f"building and solving ({solver})"):
                    if verbose and steps.progress:
                        steps.progress.stop()
                    result = solve_model(inst, solver=solver, time_limit=time_limit, tee=verbose, highs=highs_opts)
            else:
                from rechain.model import build_model  # imports Pyomo: only on this path

                with steps.step("building the model"):
                    t0 = time.perf_counter()
                    model = build_model(inst)
                    t_build = time.perf_counter() - t0
                if lp is not None:
                    with steps.step(f"writing {lp}"):
                        lp.parent.mkdir(parents=True, exist_ok=True)
                        model.write(str(lp), io_options={"symbolic_solver_labels": True})
                with steps.step(f"solving ({solver})"):
                    if verbose and steps.progress:
                        steps.progress.stop()
                    result = solve_model(model, solver=solver, time_limit=time_limit, tee=verbose, highs=highs_opts)
                    result.timings = {"build": t_build, **result.timings}
                    result.timings["total"] = result.timings.get("total", 0.0) + t_build
            if result.ok and target is not None:
                with steps.step(f"writing {target}" + (" and the report" if report else "")):
                    from .export import write_results

                    def add_report(tmp: Path) -> None:
                        if report:
                            from .report import build_report

                            build_report(tmp, tmp / "report")

                    write_results(result, target, fmt=format, instance=inst, overwrite=force, also=add_report,
                                  replaceable=replaceable("results"),
                                  extra={"source": str(src), "years": [inst.first_year, inst.last_year],
                                         "command": " ".join(sys.argv[1:]) if sys.argv else ""})
        for part in summary_tables(result, inst):
            out.print(part)
        for w in inst.warnings:  # e.g. an instance that demands nothing
            err.print(str(w), markup=False)
        for w in result.warnings:  # badly scaled rows, the solver's own warnings
            err.print(f"warning: {w}", markup=False)
        if result.ok:
            if target is not None:
                out.print(f"results written to {target}" + (f"; report: {target / 'report' / 'report.html'}" if report else ""))
            elif not quiet:
                out.print("(nothing written: add --out DIR to save the tables, --report for a report)")
            return OK
        out.print(f"{result.status}: {result.message}", markup=False)
        if result.status == "infeasible" and explain:
            from .explain import explain as explain_it

            with Steps() as steps, steps.step("explaining the infeasibility (elastic re-solve, IIS)"):
                ex = explain_it(inst)
            out.print(str(ex), markup=False)
        return STATUS_EXIT.get(result.status, SOLVER_ERROR)

    _guard(body)


@app.command(help=(
    "Check an instance: print every problem (one a line, exit 2), or 'valid' with a short inventory.\n\n"
    "Examples:\n\n\b\n  rechain validate toy\n  rechain validate my_workbook.xlsx --scenario nev_boom"
))
def validate(
    path: PathArg = None,
    scenario: Annotated[list[str], typer.Option("--scenario", "-s", metavar="NAME", help="Validate with these scenarios applied.")] = [],
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.model import check_chain, prepare

        inst, src = load(path, scenario)
        problems = list(check_chain(inst))
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise InstanceError(problems)
        prepare(inst)  # the sparse index sets: a policy covering nothing is found here
        for p in list(inst.warnings) + problems:
            err.print(str(p), markup=False)
        out.print(f"valid: {src}" + (f" (scenario {inst.scenario})" if inst.scenario else ""), markup=False)
        if quiet:
            return OK
        out.print(inventory(inst))
        return OK

    _guard(body)


def inventory(inst) -> Table:
    t = Table(show_header=False, box=None, pad_edge=False)
    T = inst.tables
    t.add_row("name", inst.name)
    t.add_row("title", inst.title)
    t.add_row("years", f"{inst.first_year}-{inst.last_year} (money discounted to {inst.base_year} at {inst.discount_rate:g})")
    t.add_row("regions", f"{len(T['regions'])}: " + ", ".join(T["regions"]["region"]))
    kinds = T["commodities"]["kind"].value_counts()
    t.add_row("commodities", f"{len(T['commodities'])} (" + ", ".join(f"{v} {k}" for k, v in kinds.items()) + ")")
    stages = T["processes"]["stage"].value_counts()
    t.add_row("processes", f"{len(T['processes'])} (" + ", ".join(f"{v} {k}" for k, v in stages.items()) + ")")
    for name, what in (("capacity", "existing-capacity rows"), ("build_limits", "build-limit rows"), ("demand", "demand rows"),
                       ("supply", "outside-supply rows"), ("trade", "trade lanes")):
        t.add_row(name, f"{len(T[name])} {what}")
    pol = T["policies"]
    t.add_row("policies", f"{pol['policy'].nunique()}" + (": " + ", ".join(dict.fromkeys(pol["policy"])) if len(pol) else ""))
    t.add_row("scenarios", f"{len(inst.scenarios)}" + (": " + ", ".join(inst.scenarios) if inst.scenarios else ""))
    t.add_row("sources", str(len(inst.sources)))
    return t


@app.command(help=(
    "Draw the chain graph (commodities and processes), laid out by stage from mining to end uses.\n\n"
    "Without --out, the stages and their processes are listed. The file type follows the extension: "
    ".html (interactive), .png or .svg.\n\n"
    "Examples:\n\n\b\n  rechain graph toy --out toy_chain.png\n  rechain graph --out chain.html"
))
def graph(
    path: PathArg = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE", help="FILE.html, FILE.png or FILE.svg.")] = None,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from .report import chain_figure_html, chain_figure_png, stage_listing

        inst, _ = load(path)
        if out_file is None:
            for line in stage_listing(inst):
                out.print(line, markup=False)
            return OK
        ext = out_file.suffix.lower()
        if ext not in (".html", ".png", ".svg"):
            raise Fail(f"--out {out_file}: expected a .html, .png or .svg file")
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if ext == ".html":
            chain_figure_html(inst, out_file)
        else:
            chain_figure_png(inst, out_file)
        out.print(f"chain graph written to {out_file}", markup=False)
        return OK

    _guard(body)


@app.command(help=(
    "Build the report (report.html, self-contained, plus PNG charts) from a results folder.\n\n"
    "Examples:\n\n\b\n  rechain report results/base\n  rechain report results/base --out shared/base_report --force"
))
def report(
    results_dir: Annotated[Path, typer.Argument(metavar="RESULTS_DIR", help="A results folder written by `rechain solve --out`.")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Report folder (default: RESULTS_DIR/report).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous report folder (never the results folder or a folder that is not a report).")] = False,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.model.atomic import atomic_write_folder

        from .export import read_results
        from .report import build_report

        summary, _ = read_results(results_dir)
        if summary.get("status") != "optimal":
            raise Fail(f"{results_dir}: status is {summary.get('status')!r}; a report needs an optimal solve")
        target = out_dir or results_dir / "report"
        check_out(target, force, "report", protect=((results_dir, "the results folder read", True),))
        with Steps() as steps, steps.step(f"writing {target}"):
            atomic_write_folder(target, lambda tmp: build_report(results_dir, tmp), overwrite=force,
                                replaceable=replaceable("report"))
        out.print(f"report written to {target / 'report.html'}", markup=False)
        return OK

    _guard(body)


@app.command(help=(
    "Compare two results folders: objective, capacity, activity, prices and unmet demand.\n\n"
    "Examples:\n\n\b\n  rechain compare results/base results/nev_boom\n  rechain compare results/base results/nev_boom --top 20"
))
def compare(
    results_a: Annotated[Path, typer.Argument(metavar="RESULTS_A", help="The reference results folder.")],
    results_b: Annotated[Path, typer.Argument(metavar="RESULTS_B", help="The results folder to compare with it.")],
    top: Annotated[int, typer.Option("--top", metavar="N", help="Rows per table (largest changes first).")] = 10,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from .export import read_results

        sa, ta = read_results(results_a)
        sb, tb = read_results(results_b)
        for part in compare_tables(sa, ta, sb, tb, top):
            out.print(part)
        return OK

    _guard(body)


def _delta_table(title, a: pd.Series, b: pd.Series, keys: list[str], top: int, value: str = "value") -> Table:
    df = pd.concat([a.rename("A"), b.rename("B")], axis=1).fillna(0.0)
    df["change"] = df["B"] - df["A"]
    df = df[df["change"].abs() > 1e-9 * (1 + df[["A", "B"]].abs().max(axis=1))]
    df = df.reindex(df["change"].abs().sort_values(ascending=False).index)
    t = Table(title=f"{title} ({len(df)} changed)", title_justify="left")
    for k in keys:
        t.add_column(k)
    for c in ("A", "B", "change", "%"):
        t.add_column(c, justify="right")
    for idx, r in df.head(top).iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        pct = f"{100 * r['change'] / abs(r['A']):+.1f} %" if abs(r["A"]) > 1e-12 else "new"
        t.add_row(*[str(i) for i in idx], fmt(r["A"]), fmt(r["B"]), f"{'+' if r['change'] > 0 else ''}{fmt(r['change'])}", pct)
    if not len(df):
        t.add_row(*(["(no change)"] + [""] * (len(keys) + 3)))
    return t


def compare_tables(sa, ta, sb, tb, top: int = 10) -> list:
    parts = []
    head = Table(show_header=True, title="Runs", title_justify="left")
    for c in ("", "A", "B", "change"):
        head.add_column(c, justify="left" if c == "" else "right")
    oa, ob = sa.get("objective"), sb.get("objective")
    head.add_row("instance", str(sa.get("instance")), str(sb.get("instance")), "")
    head.add_row("scenario", str(sa.get("scenario") or "-"), str(sb.get("scenario") or "-"), "")
    head.add_row("status", str(sa.get("status")), str(sb.get("status")), "")
    if oa is not None and ob is not None:
        pct = f" ({100 * (ob - oa) / abs(oa):+.2f} %)" if oa else ""
        head.add_row("objective", fmt(oa), fmt(ob), f"{'+' if ob > oa else ''}{fmt(ob - oa)}{pct}")
    parts.append(head)
    if sa.get("status") != "optimal" or sb.get("status") != "optimal":
        return parts
    k3 = ["process", "region", "year"]
    parts.append(_delta_table("Capacity (total) by process, region, year", ta["capacity"].set_index(k3)["total"], tb["capacity"].set_index(k3)["total"], k3, top))
    k2 = ["process", "region"]
    parts.append(_delta_table("Activity summed over the years, by process and region", ta["activity"].groupby(k2)["activity"].sum(), tb["activity"].groupby(k2)["activity"].sum(), k2, top))
    kc = ["commodity", "region", "year"]
    parts.append(_delta_table("Prices by commodity, region, year", ta["prices"].set_index(kc)["price"], tb["prices"].set_index(kc)["price"], kc, top))
    parts.append(_delta_table("Unmet demand", ta["unmet"].set_index(kc)["quantity"], tb["unmet"].set_index(kc)["quantity"], kc, top))
    cc = ["component"]
    parts.append(_delta_table("Discounted cost by component", ta["costs"].groupby("component")["discounted"].sum(), tb["costs"].groupby("component")["discounted"].sum(), cc, top))
    return parts


@app.command(help=(
    "Say what sets a price: the routes at the margin (a process run, a purchase, a shipment, a stock carried) "
    "behind the shadow price of a commodity in a region and year, each with the terms that add up to the price: "
    "its own cost, the prices of what it makes or uses with the commodity, the rents of the capacities and limits "
    "it fills and the shadow prices of the policies that hold it. It also says what a unit less would save and a unit "
    "more would cost (--step for more units): where these differ, the price is one of several the same optimum "
    "allows, and a small change moves it in a step.\n\n"
    "Examples:\n\n\b\n"
    "  rechain price --commodity prnd_oxide --region other_china --year 2021\n"
    "  rechain price -c dy_oxide -r other_china -y 2021 --scenario actual_demand_2021_2024 --step 100\n"
    "  rechain price toy --commodity prnd_oxide --region north --scenario ev_boom"
))
def price(
    path: PathArg = None,
    commodity: Annotated[str, typer.Option("--commodity", "-c", metavar="NAME", help="The commodity whose price to explain.")] = ...,
    region: Annotated[str, typer.Option("--region", "-r", metavar="NAME", help="Its region.")] = ...,
    year: Annotated[Optional[int], typer.Option("--year", "-y", metavar="YEAR", help="Its year (default: the first year).")] = None,
    step: Annotated[float, typer.Option("--step", metavar="Q",
                                        help="Say what Q units less would save and Q more would cost, a unit, each found by "
                                             "solving again.")] = 1.0,
    scenario: Scenarios = [],
    set_: Sets = [],
    scale: Scales = [],
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.solvers.drivers import NotOptimal, price_drivers

        inst, _ = load(path, scenario, set_, scale)
        y = inst.years[0] if year is None else year
        if y not in inst.years:
            raise Fail(f"--year {y}: not a year of {inst.name} ({inst.years[0]}-{inst.years[-1]})")
        if not step > 0 or step == float("inf"):
            raise Fail(f"--step {step}: must be a number of units above 0")
        try:
            drivers = price_drivers(inst, commodity, region, y, margins=True, step=step)
        except NotOptimal as e:
            raise Fail(str(e), code=INFEASIBLE) from None
        except ValueError as e:
            raise Fail(str(e)) from None
        out.print(str(drivers), markup=False)
        return OK

    _guard(body)


@app.command(help=(
    "List the named scenarios of an instance and what each one changes.\n\n"
    "Examples:\n\n\b\n  rechain scenarios toy"
))
def scenarios(
    path: PathArg = None,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        inst, src = load(path)
        if not inst.scenarios:
            out.print(f"{inst.name}: no named scenarios", markup=False)
            return OK
        out.print(f"{inst.name}: {len(inst.scenarios)} scenario(s) — solve one with `rechain solve {(str(path) + ' ') if path else ''}--scenario NAME`", markup=False)
        for name, body_ in inst.scenarios.items():
            out.print("")
            out.print(f"[bold]{escape(name)}[/bold]: {escape(str(body_.get('description', '')))}", markup=True)
            for ch in body_.get("changes") or []:
                out.print("  - " + describe_change(ch), markup=False)
        return OK

    _guard(body)


_AXIS = re.compile(r"^(?P<change>.+?)(?P<op>\*?=)(?P<values>[^=\]]*)$")
_DIST = re.compile(r"^\s*(?P<name>[a-z]+)\s*\((?P<args>.*)\)\s*$")


def _number_or_text(v: str):
    v = v.strip()
    try:
        return float(v)
    except ValueError:
        return v


def axis_names(texts: list[str]) -> list[str]:
    """The parameter column of each axis: what it changes, ``TABLE.COLUMN[WHERE]`` as written
    (``demand.quantity[commodity=nev]``), followed by ``*`` for a factor; a name given twice
    gets `` (2)``, `` (3)``..."""
    names: list[str] = []
    for i, text in enumerate(texts, 1):
        m = _AXIS.match(text)
        name = (m.group("change").strip() + ("*" if m.group("op") == "*=" else "")) if m else f"axis{i}"
        base, k = name, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


def parse_axis(text: str, sampling: bool, option: str):
    """``TABLE.COLUMN[WHERE]*=VALUES`` (multiply) or ``TABLE.COLUMN[WHERE]=VALUES`` (set) as
    an axis ``(factory, values)`` of :func:`rechain.model.scenarios.grid` / ``sample``. VALUES
    is ``v1,v2,...`` for a grid; for a sample, a distribution: ``uniform(a,b)``,
    ``normal(mean,sd)``, ``lognormal(mean,sigma)``, ``triangular(low,mode,high)`` or
    ``choice(v1,v2,...)``."""
    from rechain.model import scenarios as sc

    m = _AXIS.match(text)
    if not m or not m.group("values").strip():
        raise Fail(f"{option} {text!r}: expected TABLE.COLUMN[COLUMN=VALUE;...]*=VALUES (multiply) or "
                   f"...=VALUES (set), e.g. \"demand.quantity[commodity=nev]*={'uniform(0.8,1.4)' if sampling else '0.8,1,1.3'}\"")
    ch = parse_change(m.group("change") + "=0", "set")
    try:
        sc.check_axis(ch["table"], ch["column"], ch.get("where"), "number")
        factory = (sc.scale if m.group("op") == "*=" else sc.setter)(ch["table"], ch["column"], ch.get("where"))
    except ValueError as e:
        raise Fail(f"{option} {text!r}: {e}") from None
    values = m.group("values")
    if not sampling:
        values = [_number_or_text(v) for v in values.split(",") if v.strip()]
        if not values:
            raise Fail(f"{option} {text!r}: no values (expected v1,v2,...)")
        return factory, values
    d = _DIST.match(values)
    if not d:
        raise Fail(f"{option} {text!r}: expected a distribution: uniform(a,b), normal(mean,sd), "
                   "lognormal(mean,sigma), triangular(low,mode,high) or choice(v1,v2,...)")
    args = [_number_or_text(a) for a in d.group("args").split(",") if a.strip()]
    makers = {"uniform": sc.uniform, "normal": sc.normal, "lognormal": sc.lognormal,
              "triangular": sc.triangular, "choice": lambda *v: sc.choice(v)}
    if d.group("name") not in makers:
        raise Fail(f"{option} {text!r}: unknown distribution {d.group('name')!r} (expected {', '.join(makers)})")
    try:
        dist = makers[d.group("name")](*args)
    except (TypeError, ValueError) as e:
        raise Fail(f"{option} {text!r}: {e}") from None
    return factory, dist


@app.command(help=(
    "Solve many scenarios of an instance: a grid or a seeded random sample over parameters, "
    "and/or named scenarios. Each worker builds the model once and re-solves it in place.\n\n"
    "An axis is TABLE.COLUMN[WHERE]*=VALUES (multiply) or TABLE.COLUMN[WHERE]=VALUES (set).\n\n"
    "Examples:\n\n\b\n"
    "  rechain sweep --grid \"demand.quantity[commodity=nev]*=0.8,1,1.3\" "
    "--grid \"policies.value[policy=im_magnet_target]=45000,100000\" --out results/grid\n"
    "  rechain sweep --sample 200 --seed 1 --vary \"demand.quantity[commodity=nev]*=uniform(0.8,1.4)\" --workers 2\n"
    "  rechain sweep --scenario nev_boom --scenario wind_slowdown --backend dask --scheduler tcp://host:8786"
))
def sweep(
    path: PathArg = None,
    grid: Annotated[list[str], typer.Option("--grid", "-g", metavar="AXIS", help="A grid axis: TABLE.COLUMN[WHERE]*=v1,v2,... (repeat for a product).")] = [],
    sample: Annotated[Optional[int], typer.Option("--sample", metavar="N", min=1, help="Draw this many random scenarios over the --vary axes.")] = None,
    vary: Annotated[list[str], typer.Option("--vary", metavar="AXIS", help="A sampled axis: TABLE.COLUMN[WHERE]*=uniform(a,b) (or normal, lognormal, triangular, choice).")] = [],
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the sample (the same seed, the same scenarios).")] = 0,
    scenario: Annotated[list[str], typer.Option("--scenario", "-s", metavar="NAME", help="A named scenario of the instance to include (repeatable).")] = [],
    base: Annotated[bool, typer.Option("--base/--no-base", help="Include the unchanged instance.")] = True,
    workers: Annotated[int, typer.Option("--workers", "-w", metavar="N", min=1, help="Worker processes (or Dask workers).")] = 1,
    backend: Annotated[str, typer.Option("--backend", metavar="local|dask", help="local (processes on this machine) or dask.")] = "local",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (implies --backend dask).")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", metavar="S", help="Seconds per scenario.")] = None,
    chunk_size: Annotated[Optional[int], typer.Option("--chunk-size", metavar="N", min=1, help="Scenarios per chunk (default: about 32 chunks of 10 to 100); each chunk starts cold.")] = None,
    chunk_timeout: Annotated[Optional[float], typer.Option("--chunk-timeout", metavar="S", help="Seconds a chunk may take on a worker before it is taken as lost and tried again elsewhere (default: 60 + 10 a scenario, plus --time-limit a scenario).")] = None,
    retries: Annotated[int, typer.Option("--retries", metavar="N", min=0, help="How many times a chunk lost to a worker fault is tried again.")] = 2,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Write summary.csv, parameters.csv and one CSV a table here.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a previous sweep folder (never the instance or a folder that is not a sweep's).")] = False,
    highs_option: HighsOption = [], threads: Threads = None,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        from rechain.model import scenarios as sc
        from rechain.solvers import sweep as run_sweep
        from rechain.solvers.sweep import SweepOptionError

        if scheduler:
            backend_ = "dask"
        else:
            backend_ = backend
        if backend_ not in ("local", "dask"):
            raise Fail(f"--backend {backend!r}: expected local or dask")
        parse_time_limit(time_limit)
        highs_opts = parse_highs_options(highs_option, threads)
        if sample is not None and not vary:
            raise Fail("--sample needs at least one --vary axis")
        if vary and sample is None:
            raise Fail("--vary axes are drawn by --sample N")
        if chunk_timeout is not None and not (0 < chunk_timeout < math.inf):
            raise Fail(f"--chunk-timeout {chunk_timeout:g}: expected a number of seconds > 0")
        inst, src = load(path)
        if out_dir is not None:
            check_out(out_dir, force, "sweep", protect=((src, _source_label(src)),))
        unknown = [n for n in scenario if n not in inst.scenarios]
        if unknown:
            raise Fail(f"--scenario {unknown[0]!r}: the instance has no scenario of that name "
                       f"(named: {', '.join(inst.scenarios) or 'none'})")
        runs = [sc.Scenario.base()] if base else []
        runs += [sc.Scenario.named(n) for n in scenario]
        if grid:
            axes = dict(zip(axis_names(grid), (parse_axis(t, False, "--grid") for t in grid)))
            runs += [s.relabel(f"grid{k + 1:04d}") for k, s in enumerate(sc.grid(**axes))]
        if sample is not None:
            axes = dict(zip(axis_names(vary), (parse_axis(t, True, "--vary") for t in vary)))
            try:
                runs += sc.sample(sample, seed=seed, **axes)
            except ValueError as e:
                raise Fail(f"--vary: {e}") from None
        if not runs:
            raise Fail("nothing to solve: give --grid, --sample with --vary, --scenario, or keep --base")
        names = dict(zip(axis_names(grid or vary), grid or vary))
        try:
            res = run_sweep(inst, runs, workers=workers, backend=backend_, scheduler=scheduler,
                            progress=not Opts.quiet, time_limit=time_limit, chunk_size=chunk_size,
                            chunk_timeout=chunk_timeout, retries=retries, highs=highs_opts)
        except SweepOptionError as e:
            raise Fail(str(e)) from None
        if out_dir is not None:
            res.to_folder(out_dir, overwrite=force, replaceable=replaceable("sweep"))
        s = res.summary
        t = Table(title=f"{inst.name}: {len(s)} scenario(s), {workers} worker(s), {backend_}")
        for c in ("", "value"):
            t.add_column(c, justify="right" if c else "left")
        for status, n in s["status"].value_counts().items():
            t.add_row(f"status {status}", str(n))
        obj = s["objective"].dropna()
        if len(obj):
            money = inst.units.get("money", "")
            for label, v in (("objective min", obj.min()), ("objective median", obj.median()), ("objective max", obj.max())):
                t.add_row(label, f"{fmt(v)} {money}")
        t.add_row("time", f"{res.timings.get('total', float('nan')):.1f} s")
        out.print(t)
        if names:
            out.print("axes (columns of parameters.csv): " + "; ".join(
                f"{k} = {m.group('values') if (m := _AXIS.match(v)) else v}" for k, v in names.items()), markup=False)
        bad = s[s["status"] != "optimal"]
        for row in bad.head(10).itertuples():
            why = f" ({row.reason})" if row.reason else ""
            out.print(f"{row.scenario}: {row.status}{why}: {row.message}", markup=False)
        if out_dir is not None:
            out.print(f"results written to {out_dir}", markup=False)
        if (s["status"] == "lost").any():
            return LOST
        return OK if len(bad) == 0 else (STATUS_EXIT.get(str(bad["status"].iloc[0]), SOLVER_ERROR))

    _guard(body)


def describe_change(ch: dict) -> str:
    where = ch.get("where") or {}
    sel = " where " + ", ".join(f"{k} = {v}" for k, v in where.items()) if where else " (every row)"
    col = f"{ch.get('table')}.{ch.get('column')}"
    if "scale" in ch:
        return f"{col}{sel}: × {ch['scale']:g}"
    return f"{col}{sel}: set to {ch.get('set')}"


def _is_workbook_name(path: Path) -> bool:
    return Path(path).suffix.lower() == ".xlsx"


def write_instance(inst, target: Path, force: bool, protect: tuple = ()) -> None:
    """Write ``inst`` at ``target``: one workbook when its name ends in ``.xlsx``, else an
    instance folder; refused (exit 2) as every output is (see :func:`check_out`)."""
    if _is_workbook_name(target):
        from rechain.model.workbook import write_workbook

        write_workbook(inst, target, overwrite=force, protect=protect)
    else:
        check_out(target, force, "instance", protect=protect)
        inst.to_folder(target, overwrite=force, replaceable=replaceable("instance"))


@app.command(help=(
    "Convert an instance between a folder and one .xlsx workbook (either direction): the same "
    "tables, settings, sources and scenarios. A DST ending in .xlsx is written as a workbook, "
    "anything else as a folder.\n\n"
    "Examples:\n\n\b\n  rechain convert toy toy.xlsx\n  rechain convert toy.xlsx my_toy --force"
))
def convert(
    src: Annotated[Path, typer.Argument(metavar="SRC", help="Instance folder or .xlsx workbook, or the name of a shipped instance.")],
    dst: Annotated[Path, typer.Argument(metavar="DST", help="The workbook (NAME.xlsx) or folder to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace a previous workbook or instance folder (never the source, "
                                                       "the current directory or anything else).")] = False,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        inst, source = load(src)
        write_instance(inst, dst, force, protect=((source, _source_label(source)),))
        for p in inst.warnings:
            err.print(str(p), markup=False)
        out.print(f"written {dst} ({'workbook' if _is_workbook_name(dst) else 'folder'}) from {source}", markup=False)
        return OK

    _guard(body)


def _starter_names(yaml_text: str, name: str, from_: str) -> str:
    """``instance.yaml`` of a starter with ``name:`` set to the new instance's name and a plain
    ``title:`` (the shipped title describes the shipped instance, not the user's)."""
    import json

    title = f"{name}: a planning instance started from the shipped instance '{from_}'"
    text = re.sub(r"(?m)^name:.*$", lambda m: f"name: {json.dumps(name)}", yaml_text, count=1)
    return re.sub(r"(?m)^title:.*$", lambda m: f"title: {json.dumps(title)}", text, count=1)


@app.command(help=(
    "Copy a starter instance into a new folder (or, with --xlsx, one workbook) for you to edit.\n\n"
    "The starter's name is the folder's (or workbook's) name.\n\n"
    "Examples:\n\n\b\n  rechain init my_chain\n  rechain init my_chain --from inner_mongolia_2021_2025\n"
    "  rechain init my_chain --xlsx          # writes my_chain.xlsx"
))
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The new instance folder (with --xlsx: the workbook; .xlsx is added when missing).")],
    from_: Annotated[str, typer.Option("--from", metavar="NAME", help="Shipped instance to copy.")] = "toy",
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Write the starter as one .xlsx workbook (DIRECTORY.xlsx) instead of a folder.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing instance folder or workbook with the starter (never a folder without instance.yaml).")] = False,
    quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
):
    _set_opts(quiet, verbose, debug)

    def body():
        import rechain.instances as shipped
        from rechain.model.atomic import atomic_write_folder

        if from_ not in shipped.names():
            raise Fail(f"--from {from_!r}: no shipped instance of that name (shipped: {', '.join(shipped.names())})")
        src = shipped.path(from_)
        if xlsx:
            from rechain.model import load_instance

            book = directory if _is_workbook_name(directory) else directory.with_name(directory.name + ".xlsx")
            inst = load_instance(src)
            inst.name = book.stem
            inst.title = f"{book.stem}: a planning instance started from the shipped instance '{from_}'"
            write_instance(inst, book, force, protect=((src, "the shipped instance"),))
            out.print(f"created {book} from the shipped instance '{from_}' (sheets: {', '.join(_sheets(book))})", markup=False)
            if not quiet:
                out.print(f"next: edit the sheets, then `rechain validate {book}` and `rechain solve {book}`", markup=False)
            return OK
        check_out(directory, force, "instance", protect=((src, "the shipped instance"),))

        def copy(tmp: Path) -> None:
            for f in sorted(src.iterdir()):
                if f.is_file() and f.suffix in (".csv", ".yaml", ".md"):
                    shutil.copy2(f, tmp / f.name)
            y = tmp / "instance.yaml"
            y.write_text(_starter_names(y.read_text(encoding="utf-8"), Path(directory).resolve().name, from_), encoding="utf-8")
            _offer_v2(tmp)

        atomic_write_folder(directory, copy, overwrite=force, replaceable=replaceable("instance"))
        files = sorted(f.name for f in directory.iterdir())
        out.print(f"created {directory} from the shipped instance '{from_}' ({len(files)} files: {', '.join(files)})", markup=False)
        if not quiet:
            out.print(f"next: edit the CSV files, then `rechain validate {directory}` and `rechain solve {directory}`", markup=False)
        return OK

    _guard(body)


def _sheets(book: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(book, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


#: the format v2 tables ``rechain init`` offers switched off (SPEC section 4)
V2_OFFERED = ("storage", "demand_response", "process_costs")


def _offer_v2(folder: Path) -> None:
    """Offer the format v2 additions switched off: an example of each v2 table as
    ``<table>.csv.off`` (the loader reads only ``<table>.csv``), fitted to the instance, and a
    commented note at the end of ``instance.yaml`` on how to switch each one on."""
    import csv

    from rechain.model import load_instance
    from rechain.model.schema import TABLES

    inst = load_instance(folder)
    present = [t for t in V2_OFFERED if len(inst.tables[t])]
    com, dem, pro = inst.commodities, inst.demand, inst.processes
    stockable = next(iter(com.loc[com["kind"] == "material", "commodity"]), com["commodity"].iloc[0])
    region = inst.regions["region"].iloc[0]
    demanded = dem["commodity"].iloc[0] if len(dem) else com["commodity"].iloc[0]
    dearest = pro.sort_values("capex", ascending=False)["process"].iloc[0]
    examples = {
        "storage": [{"commodity": stockable, "region": region, "initial": 0, "max_level": "", "holding_cost": 0.01, "final": ""}],
        # the steps cover the whole demand (the share no step covers must be served)
        "demand_response": [{"commodity": demanded, "region": "*", "year": "", "step": 1, "share": 0.1, "price": 50},
                            {"commodity": demanded, "region": "*", "year": "", "step": 2, "share": 0.2, "price": 200},
                            {"commodity": demanded, "region": "*", "year": "", "step": 3, "share": 0.7,
                             "price": inst.unmet_penalty if inst.unmet_penalty is not None else 1000}],
        "process_costs": [{"process": dearest, "region": region, "year": "", "capex": "", "fixed_om": "", "variable_cost": ""},
                          {"process": dearest, "region": "*", "year": inst.last_year, "capex": "", "fixed_om": "", "variable_cost": ""}],
    }
    for name in V2_OFFERED:
        if name in present:
            continue
        cols = TABLES[name].column_names
        with open(folder / f"{name}.csv.off", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            for row in examples[name]:
                w.writerow([row.get(c, "") for c in cols])
    note = [
        "",
        "# Format v2 additions (docs/spec.md, section 4), offered switched off: rename a file to switch it on,",
        "# then say `format_version: 2` above.",
        "#   storage.csv.off -> storage.csv: stocks a plan may build or draw (initial, max_level, holding_cost, final)",
        "#   demand_response.csv.off -> demand_response.csv: stepwise demand curves (share of demand given up at a price)",
        "#   process_costs.csv.off -> process_costs.csv: capex by region and vintage, running costs by region and year",
        "#   process_io.csv: a column `delay` (years) delays an output, e.g. end-of-life scrap from products in use",
        "#   processes.csv: a column `capacity` set to false makes a process without plant (an end use)",
        "#   policies.csv: kinds min_trade, min_stock, max_stock, max_share and min_share (with a column share_of)",
    ]
    with open(folder / "instance.yaml", "a", encoding="utf-8") as f:
        f.write("\n".join(note) + "\n")


from . import cli_plans  # noqa: E402,F401  (registers `stochastic` and `alternatives` on the app)


def main() -> None:
    """Entry point of the ``rechain`` console script."""
    app()


if __name__ == "__main__":
    main()
