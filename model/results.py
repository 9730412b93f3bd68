"""Results of a solve as tidy pandas tables (SPEC section 3), and writing them out atomically.

A :class:`Result` is built from the primal values of every variable family and the duals of
the balance and policy rows, each given as an array aligned with the rows of the matching
:class:`~rechain.model.data.ModelData` table, so any solver path can produce it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .data import ModelData
from .instance import atomic_write_folder

STATUSES = ("optimal", "infeasible", "unbounded", "time_limit", "error")

TABLE_COLUMNS = {
    "capacity": ["process", "region", "year", "residual", "new", "total", "utilisation"],
    "activity": ["process", "region", "year", "activity"],
    "flows": ["process", "commodity", "region", "year", "direction", "quantity"],
    "trade": ["commodity", "origin", "destination", "year", "quantity"],
    "supply": ["commodity", "region", "year", "quantity"],
    "unmet": ["commodity", "region", "year", "quantity"],
    "disposal": ["commodity", "region", "year", "quantity"],
    "prices": ["commodity", "region", "year", "price"],
    "policies": ["policy", "year", "shadow_price", "slack", "violation"],
    "costs": ["year", "component", "undiscounted", "discounted"],
}
COST_COMPONENTS = ("capex", "fixed_om", "variable", "supply", "trade", "unmet", "disposal", "violation")


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c not in ("process", "commodity", "region", "origin", "destination", "direction", "policy", "component") else "object") for c in TABLE_COLUMNS[name]})


@dataclass
class Result:
    """Outcome of a solve: status, objective, timings and the tidy tables of SPEC section 3.

    Money is in the instance's units; ``prices`` and policy ``shadow_price`` are undiscounted
    (the balance or policy dual divided by DF_y): the change of the objective, in money of year
    y, per unit more demand of that commodity, or per unit more of the policy's value.
    """

    status: str
    objective: float | None = None
    message: str = ""
    solver: str = "highs"
    timings: dict = field(default_factory=dict)
    instance_name: str = ""
    scenario: str | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and item in TABLE_COLUMNS:
            return tables.get(item, _empty(item))
        raise AttributeError(item)

    @property
    def ok(self) -> bool:
        return self.status == "optimal"

    def __repr__(self) -> str:
        obj = f"{self.objective:.6g}" if self.objective is not None else "None"
        scen = f", scenario={self.scenario!r}" if self.scenario else ""
        return f"Result({self.instance_name!r}{scen}, status={self.status!r}, objective={obj})"

    def summary(self) -> dict:
        return {
            "status": self.status,
            "objective": self.objective,
            "message": self.message,
            "solver": self.solver,
            "instance": self.instance_name,
            "scenario": self.scenario,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }

    def to_folder(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write every table as CSV plus ``summary.json``, atomically: a temporary folder is
        filled and then renamed, so an interrupted write never leaves partial results and an
        earlier folder at ``path`` stays whole until the new one is complete."""
        path = Path(path)

        def write(tmp: Path) -> None:
            for name in TABLE_COLUMNS:
                getattr(self, name).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
            with open(tmp / "summary.json", "w", encoding="utf-8") as f:
                json.dump(self.summary(), f, indent=2, sort_keys=False)
                f.write("\n")

        atomic_write_folder(path, write, overwrite=overwrite)
        return path


def _frame(table: pd.DataFrame, cols: list[str], **values) -> pd.DataFrame:
    out = table[cols].reset_index(drop=True).copy()
    for k, v in values.items():
        out[k] = np.asarray(v, dtype="float64") if len(out) else pd.Series(dtype="float64")
    return out


def clean(x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Round solver noise (|x| < tol) to exact zeros so tables and files are stable."""
    x = np.asarray(x, dtype="float64").copy()
    x[np.abs(x) < tol] = 0.0
    return x


def build_result(
    data: ModelData,
    values: dict[str, np.ndarray],
    duals: dict[str, np.ndarray],
    status: str,
    objective: float | None,
    **meta,
) -> Result:
    """Assemble the tidy tables from primal ``values`` (keys ``act, new, cap, supply, ship,
    unmet, dispose, violation``) and ``duals`` (keys ``balance``, ``policy``), each aligned with
    the rows of the matching ModelData table (``act`` and ``cap`` with ``data.cap``;
    ``violation`` and ``policy`` with ``data.policy``, NaN where a row does not exist)."""
    d = data
    res = Result(status=status, objective=objective, **meta)
    if status != "optimal":
        return res
    P3 = ["process", "region", "year"]
    act = clean(values["act"])
    cap_v = clean(values["cap"])
    new_v = clean(values["new"])

    # capacity: residual, new started in the year, total
    cap = _frame(d.cap, P3 + ["residual"], total=cap_v)
    newt = _frame(d.new, P3, new=new_v)
    capacity = cap.merge(newt, how="outer", on=P3)
    capacity["residual"] = capacity["residual"].fillna(0.0)
    capacity["total"] = capacity["total"].fillna(0.0)
    capacity["new"] = capacity["new"].fillna(0.0)
    acts = _frame(d.cap, P3, activity=act)
    capacity = capacity.merge(acts, how="left", on=P3).fillna({"activity": 0.0})
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(capacity["total"] > 0, capacity["activity"] / capacity["total"], 0.0)
    capacity["utilisation"] = clean(util)
    capacity = capacity.sort_values(P3, kind="stable").reset_index(drop=True)[TABLE_COLUMNS["capacity"]]

    flows = acts.merge(d.io, on="process")
    flows["direction"] = np.where(flows["coefficient"] > 0, "out", "in")
    flows["quantity"] = clean(flows["activity"] * flows["coefficient"].abs())
    flows = flows[TABLE_COLUMNS["flows"]].sort_values(["process", "region", "year", "direction", "commodity"], kind="stable").reset_index(drop=True)

    trade = _frame(d.ship, ["commodity", "origin", "destination", "year"], quantity=clean(values["ship"]))
    supply = _frame(d.supply, ["commodity", "region", "year"], quantity=clean(values["supply"]))
    unmet = _frame(d.unmet, ["commodity", "region", "year"], quantity=clean(values["unmet"]))
    disposal = _frame(d.dispose, ["commodity", "region", "year"], quantity=clean(values["dispose"]))

    dfy = d.balance["year"].map(d.df).to_numpy(dtype=float)
    prices = _frame(d.balance, ["commodity", "region", "year"], price=clean(np.asarray(duals["balance"], dtype=float) / dfy, 1e-10))

    pol = d.policy
    pdf = pol["year"].map(d.df).to_numpy(dtype=float)
    viol = np.nan_to_num(np.asarray(values.get("violation", np.zeros(len(pol))), dtype=float))
    lhs = policy_lhs(d, {"act": act, "cap": cap_v, "new": new_v, "supply": clean(values["supply"]), "ship": clean(values["ship"])})
    slack = np.where(pol["sense"] == "max", pol["value"] - (lhs - viol), (lhs + viol) - pol["value"])
    policies = _frame(pol, ["policy", "year"], shadow_price=clean(np.asarray(duals["policy"], dtype=float) / pdf, 1e-10),
                      slack=clean(slack), violation=clean(viol))

    costs = _costs(d, act, cap_v, new_v, values, viol)

    res.tables = {
        "capacity": capacity,
        "activity": acts[TABLE_COLUMNS["activity"]],
        "flows": flows,
        "trade": trade,
        "supply": supply,
        "unmet": unmet,
        "disposal": disposal,
        "prices": prices,
        "policies": policies,
        "costs": costs,
    }
    for t in res.tables.values():
        if "year" in t.columns and len(t):
            t["year"] = t["year"].astype(int)
    return res


FAMILY_TABLE = {"act": ("cap", ["process", "region", "year"]), "cap": ("cap", ["process", "region", "year"]),
                "new": ("new", ["process", "region", "year"]), "supply": ("supply", ["commodity", "region", "year"]),
                "ship": ("ship", ["commodity", "origin", "destination", "year"])}


def policy_lhs(d: ModelData, values: dict[str, np.ndarray]) -> np.ndarray:
    """Σ of the variables each policy row limits (without its violation), per row of d.policy."""
    t = d.policy_terms
    out = np.zeros(len(d.policy))
    if not len(t):
        return out
    row_of = {k: i for i, k in enumerate(zip(d.policy["policy"], d.policy["year"]))}
    for var, g in t.groupby("var", sort=False):
        table, cols = FAMILY_TABLE[var]
        pos = {k: i for i, k in enumerate(getattr(d, table)[cols].itertuples(index=False, name=None))}
        v = values[var]
        rows = np.fromiter((row_of[k] for k in zip(g["policy"], g["year"])), dtype=np.int64, count=len(g))
        vals = np.fromiter((v[pos[k]] for k in g["key"]), dtype=float, count=len(g))
        np.add.at(out, rows, vals)
    return out


def _costs(d: ModelData, act, cap_v, new_v, values, viol) -> pd.DataFrame:
    """Cost components by year (undiscounted, in money of that year) and discounted."""
    rows = {y: dict.fromkeys(COST_COMPONENTS, 0.0) for y in d.years}
    proc = d.process
    # capex: annuity of every vintage in each year it is online
    if len(d.online):
        nv = d.new[["process", "region", "year"]].copy()
        nv["value"] = new_v
        on = d.online.merge(nv.rename(columns={"year": "vintage"}), on=["process", "region", "vintage"])
        on["cost"] = on["value"] * proc["annuity"].reindex(on["process"]).to_numpy()
        for y, v in on.groupby("year")["cost"].sum().items():
            rows[int(y)]["capex"] += v

    def add(component, years, amounts):
        s = pd.Series(np.asarray(amounts, dtype=float)).groupby(np.asarray(years)).sum()
        for y, v in s.items():
            rows[int(y)][component] += v

    if len(d.cap):
        add("fixed_om", d.cap["year"], cap_v * proc["fixed_om"].reindex(d.cap["process"]).to_numpy())
        add("variable", d.cap["year"], act * proc["variable_cost"].reindex(d.cap["process"]).to_numpy())
    if len(d.supply):
        add("supply", d.supply["year"], clean(values["supply"]) * d.supply["price"].to_numpy())
    if len(d.ship):
        add("trade", d.ship["year"], clean(values["ship"]) * d.ship["cost"].to_numpy())
    if len(d.unmet):
        add("unmet", d.unmet["year"], clean(values["unmet"]) * d.unmet["penalty"].to_numpy())
    if len(d.dispose):
        add("disposal", d.dispose["year"], clean(values["dispose"]) * d.dispose["cost"].to_numpy())
    if len(d.policy):
        pen = d.policy["penalty"].fillna(0.0).to_numpy()
        add("violation", d.policy["year"], viol * pen)
    out = [(y, c, v, v * d.df[y]) for y in d.years for c, v in rows[y].items()]
    return pd.DataFrame(out, columns=TABLE_COLUMNS["costs"])


def objective_from_costs(result: Result) -> float:
    """The discounted total of the cost table (equals the objective at an optimum)."""
    return float(result.costs["discounted"].sum())


def isclose(a: float, b: float, rel: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
