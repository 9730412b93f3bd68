"""Plan without perfect foresight: a rolling-horizon (myopic) solve beside the full-horizon one.

The planner looks ``window`` years ahead from each decision year, commits the new capacity it
starts in the first ``step`` years of the window, and moves on; later windows inherit those
plants. Window k solves the instance over ``first .. window end`` with the committed new
capacity of earlier years fixed, so the planner sees neither the demand nor the policies
beyond its window. Only committed capacity carries over from one window to the next: each
window re-optimises operation, stocks included, from the first year, and must end its window
holding at least the final stock (``storage.final``, else the initial stock), so a planner does
not run stocks down at the edge of what it sees.

The myopic plan's cost is then evaluated on the full horizon, with every ``new`` fixed to the
committed plan and operations optimised: the same LP as the perfect-foresight plan with more
fixed variables, so ``objective >= perfect_objective`` always (up to solver tolerance), and
``cost_of_myopia`` is the money that foresight saves. Money in the instance's units,
discounted to ``base_year`` as the objective.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import pandas as pd

from rechain.model import Instance, Result, build_model, load_instance

from .solve import solve

P3 = ["process", "region", "year"]


@dataclass
class MyopicResult:
    """``result``: the myopic plan evaluated on the full horizon (tables as :class:`Result`);
    ``perfect``: the perfect-foresight plan; ``windows``: one row per window (start, end,
    committed years, status, objective of the window's own LP, seconds); ``capacity``:
    new and total capacity of both plans side by side."""

    status: str
    result: Result
    perfect: Result
    windows: pd.DataFrame
    window: int
    step: int
    message: str = ""
    timings: dict = field(default_factory=dict)
    money: str = ""  # the instance's units.money, for describe()

    @property
    def objective(self) -> float | None:
        return self.result.objective

    @property
    def perfect_objective(self) -> float | None:
        return self.perfect.objective

    @property
    def cost_of_myopia(self) -> float | None:
        """What foresight saves (money, discounted as the objective); None when there is no
        myopic plan (``status`` is not optimal: ``message`` and :meth:`describe` say why)."""
        if self.objective is None or self.perfect_objective is None:
            return None
        return self.objective - self.perfect_objective

    def describe(self) -> str:
        """One sentence: the cost of myopia, or why there is no myopic plan (a window that
        did not solve, and what to try)."""
        head = f"window {self.window}, step {self.step}: "
        if self.status != "optimal":
            return (head + f"no myopic plan ({self.status}): {self.message}. cost_of_myopia is None; a planner that "
                    "looks further ahead (a larger window) may find one")
        money = f" {self.money}" if self.money else ""
        share = f" ({100 * self.cost_of_myopia / abs(self.perfect_objective):+.2f} %)" if self.perfect_objective else ""
        return (head + f"the myopic plan costs {self.objective:,.6g}{money}, {self.cost_of_myopia:,.6g}{money}{share} more "
                f"than the perfect-foresight plan ({self.perfect_objective:,.6g}{money})")

    @property
    def capacity(self) -> pd.DataFrame:
        a = self.result.capacity[P3 + ["new", "total"]].rename(columns={"new": "new_myopic", "total": "total_myopic"})
        b = self.perfect.capacity[P3 + ["new", "total"]].rename(columns={"new": "new_perfect", "total": "total_perfect"})
        return a.merge(b, on=P3, how="outer").fillna(0.0).sort_values(P3, kind="stable").reset_index(drop=True)

    @property
    def costs(self) -> pd.DataFrame:
        """Discounted cost by component for both plans, and the difference."""
        a = self.result.costs.groupby("component", sort=False)["discounted"].sum().rename("myopic")
        b = self.perfect.costs.groupby("component", sort=False)["discounted"].sum().rename("perfect")
        t = pd.concat([a, b], axis=1).fillna(0.0)
        t["difference"] = t["myopic"] - t["perfect"]
        return t.reset_index().rename(columns={"index": "component"})

    def __repr__(self) -> str:
        if self.status != "optimal":
            return f"MyopicResult(status={self.status!r}, message={self.message!r})"
        return (f"MyopicResult(window={self.window}, step={self.step}, objective={self.objective:.6g}, "
                f"perfect={self.perfect_objective:.6g}, cost_of_myopia={self.cost_of_myopia:.6g})")


def myopic(instance: Instance | str, window: int = 1, step: int | None = None, perfect: Result | None = None,
           **solve_options) -> MyopicResult:
    """Rolling-horizon plan of ``instance``: windows of ``window`` years, advancing and
    committing ``step`` years at a time (default ``step = window``: consecutive windows;
    ``window=1`` plans year by year). A plant whose lead time puts it beyond the window is
    never started by that window's planner: a window shorter than the lead times shows
    the cost of not looking far enough ahead. ``perfect`` may pass an already solved perfect-foresight
    result of the same instance. ``solve_options`` go to :func:`rechain.solvers.solve`."""
    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    window = int(window)
    step = window if step is None else int(step)
    if window < 1 or not 1 <= step <= window:
        raise ValueError(f"need window ≥ 1 and 1 ≤ step ≤ window (got window={window}, step={step})")
    first, last = instance.first_year, instance.last_year
    if perfect is None:
        perfect = solve(instance, **solve_options)

    committed: dict[tuple, float] = {}  # (process, region, vintage) -> new capacity started
    decided: set[int] = set()  # vintage years whose building decisions are taken
    rows = []
    status, message = "optimal", ""
    start = first
    while start <= last:
        end = min(start + window - 1, last)
        commit_end = last if end == last else min(start + step - 1, last)
        t = time.perf_counter()
        m = build_model(instance.with_years(first, end))
        _fix_new(m, committed, decided)
        r = solve(m, **solve_options)
        rows.append({"start": start, "end": end, "committed": f"{start}-{commit_end}", "status": r.status,
                     "objective": r.objective if r.objective is not None else math.nan,
                     "seconds": time.perf_counter() - t})
        if not r.ok:
            status = r.status
            message = (f"the window {start}-{end} did not solve ({r.status}): {r.message}"
                       + (f" (with the capacity the windows before it committed: a planner looking {window} year"
                          f"{'s' if window != 1 else ''} ahead never starts a plant whose lead time reaches past its window)"
                          if decided else ""))
            break
        new = r.capacity
        for p, rg, y, v in new[P3 + ["new"]].itertuples(index=False, name=None):
            if start <= y <= commit_end:
                committed[p, rg, int(y)] = max(0.0, float(v))
        decided.update(range(start, commit_end + 1))
        start = commit_end + 1

    windows = pd.DataFrame(rows, columns=["start", "end", "committed", "status", "objective", "seconds"])
    if status != "optimal":
        res = Result(status=status, message=message, instance_name=instance.name, scenario=instance.scenario)
        return MyopicResult(status, res, perfect, windows, window, step, message, {"total": time.perf_counter() - t0},
                            instance.units.get("money", ""))
    # the committed plan on the full horizon, operations optimised around it
    m = build_model(instance)
    _fix_new(m, committed, decided)
    res = solve(m, **solve_options)
    if not res.ok:
        message = f"the committed plan has no feasible operation on the full horizon ({res.status}): {res.message}"
    return MyopicResult(res.status, res, perfect, windows, window, step, message or res.message,
                        {"total": time.perf_counter() - t0}, instance.units.get("money", ""))


def _fix_new(m, committed: dict, decided: set) -> None:
    """Hold each vintage of a decided year at its committed value (a column with equal bounds
    stays in the LP, so results and duals read as usual). A vintage of a decided year that was
    not a choice then (its plant would have come online only beyond that window) was not
    started: it is held at 0. Vintages of later years are free."""
    for k, var in m.new.items():  # the variable family `new`, indexed (process, region, vintage)
        if k[2] in decided:
            v = committed.get(k, 0.0)
            var.setlb(v)
            var.setub(v)
