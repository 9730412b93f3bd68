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
from . import families as F
from .atomic import atomic_write_folder

STATUSES = ("optimal", "infeasible", "unbounded", "time_limit", "error")

TABLE_COLUMNS = {
    "capacity": ["process", "region", "year", "residual", "new", "total", "utilisation", "unit"],
    "activity": ["process", "region", "year", "activity", "unit"],
    "flows": ["process", "commodity", "region", "year", "direction", "quantity", "unit"],
    "trade": ["commodity", "origin", "destination", "year", "quantity", "unit"],
    "supply": ["commodity", "region", "year", "quantity", "unit"],
    "unmet": ["commodity", "region", "year", "quantity", "unit"],
    "disposal": ["commodity", "region", "year", "quantity", "unit"],
    "prices": ["commodity", "region", "year", "price", "unit"],
    "policies": ["policy", "year", "shadow_price", "slack", "violation", "unit"],
    "costs": ["year", "component", "undiscounted", "discounted", "unit"],
    "stock": ["commodity", "region", "year", "level", "holding_cost", "unit"],
    "demand_response": ["commodity", "region", "year", "step", "share", "price", "unmet", "unit"],
    "investment": ["process", "region", "year", "new", "capex", "overnight", "unit"],
}
_TEXT = pd.Series(["text"]).dtype  # the dtype pandas gives text (``str`` from pandas 3; object before)
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True

#: the columns of each result table that hold numbers of the solution; the others are its keys
VALUE_COLUMNS = {
    "capacity": ["residual", "new", "total", "utilisation"],
    "activity": ["activity"],
    "flows": ["quantity"],
    "trade": ["quantity"],
    "supply": ["quantity"],
    "unmet": ["quantity"],
    "disposal": ["quantity"],
    "prices": ["price"],
    "policies": ["shadow_price", "slack", "violation"],
    "costs": ["undiscounted", "discounted"],
    "stock": ["level", "holding_cost"],
    "demand_response": ["share", "price", "unmet"],
    "investment": ["new", "capex", "overnight"],
}
COST_COMPONENTS = ("capex", "fixed_om", "variable", "supply", "trade", "unmet", "disposal", "holding", "violation")
_NAME_COLUMNS = ("process", "commodity", "region", "origin", "destination", "direction", "policy", "component", "unit")
P3, C3, S4 = ["process", "region", "year"], ["commodity", "region", "year"], ["commodity", "origin", "destination", "year"]


def _empty(name: str) -> pd.DataFrame:
    def dtype(c):
        return _TEXT if c in _NAME_COLUMNS else ("int64" if c in ("year", "step") else "float64")

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in TABLE_COLUMNS[name]})


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
    #: a MILP (plant modules, ``min_build``): objective, relative gap, dual bound and the LP
    #: relaxation's objective; empty for an LP
    mip: dict = field(default_factory=dict)

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and item in TABLE_COLUMNS:
            t = tables.get(item)
            return t if t is not None else _empty(item)
        if tables is not None and item in tables:  # the table of a family that declares one
            return tables[item]
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
            **({"mip": dict(self.mip)} if self.mip else {}),
        }

    def to_folder(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write every table as CSV plus ``summary.json``, atomically: a temporary folder is
        filled and then renamed, so an interrupted write never leaves partial results and an
        earlier folder at ``path`` stays whole until the new one is complete."""
        path = Path(path)

        def write(tmp: Path) -> None:
            for name in list(TABLE_COLUMNS) + [t for t in self.tables if t not in TABLE_COLUMNS]:
                getattr(self, name).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
            with open(tmp / "summary.json", "w", encoding="utf-8") as f:
                json.dump(self.summary(), f, indent=2, sort_keys=False)
                f.write("\n")

        atomic_write_folder(path, write, overwrite=overwrite)
        return path


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
    if status != "optimal":
        return Result(status=status, objective=objective, **meta)
    return ResultLayout(data).build(values, duals, objective, **meta)


def _per_name(column: pd.Series, f) -> np.ndarray:
    """``f`` of each entry of ``column``, called once per distinct name (not once per row)."""
    codes, names = pd.factorize(column, sort=False, use_na_sentinel=False)
    return np.array([f(x) for x in names.tolist()], dtype=object)[codes] if len(codes) else np.zeros(0, dtype=object)


class ResultLayout:
    """Everything about the result tables of one ModelData that does not depend on the
    solution: their key columns, in their final order, and index arrays from each variable
    family into them, all read from the family declarations. :meth:`build` then makes a
    :class:`Result` from solution arrays with numpy alone, so re-solves of the same model
    (sweeps) pay little for their tables.

    The numbers the tables read (residual capacity, io coefficients, policy values, unit
    costs) are the params, given to :meth:`columns` (default: those of the ModelData), so a
    model whose numbers were changed in place need not be prepared again.
    """

    def __init__(self, data: ModelData):
        d = self.data = data
        self.years = list(d.years)
        T = d.tables

        # capacity: the union of the keys of cap (residual, total, activity) and new, sorted
        ck, nk = T["cap"]["key"].to_numpy(), T["new"]["key"].to_numpy()
        keys = F.unique_keys(np.concatenate([ck, nk]))
        self.cap_pos, self.new_pos = np.searchsorted(keys, ck), np.searchsorted(keys, nk)
        named = _decode_keys(d, keys, P3)
        units = d.aux.get("units", {})
        cu, pu, money = units.get("commodity", {}), units.get("process", {}), units.get("money", "")

        def unit_of(frame, column, of):
            return frame.assign(unit=_per_name(frame[column], lambda x: of.get(x, "")))

        self.capacity_keys = _keys(unit_of(pd.DataFrame(named), "process", pu))
        self.activity_keys = _keys(unit_of(T["act"][P3], "process", pu))
        self.cap_act = T["cap"]["act"].to_numpy()  # the activity of each capacity row

        # flows: the terms of activity in the balance rows, in the year they arrive (an output
        # delayed from several years of activity is one flow of the sum)
        part = next(p for p in d.rows["balance"].terms if p.decl.var == "act")
        self.flow_part = part
        # grouped by (process, region, year, direction, commodity) as one integer key of their
        # codes (names coded in name order, "in" before "out"), sorted as the names sort; the
        # names are taken from the distinct ones by code, not made once per row
        dims = d.dims
        nR, nY, nC = dims.size("region"), dims.size("year"), dims.size("commodity")
        pr = T["act"]["key"].to_numpy()[part.pick.vars] // nY  # (process, region) of the activity
        bk = T["balance"]["key"].to_numpy()[part.pick.rows]  # (commodity, region, year) it arrives in
        out = (d.params["io"][part.pick.index[0]] > 0).astype(np.int64)
        fkey = ((pr * nY + bk % nY) * 2 + out) * nC + bk // (nR * nY)
        fkey, self.flow_group = np.unique(fkey, return_inverse=True)
        com, rest = np.divmod(fkey, nC)[::-1]
        rest, out = np.divmod(rest, 2)
        rest, year = np.divmod(rest, nY)
        proc, reg = np.divmod(rest, nR)
        self.flow_keys = _keys(pd.DataFrame({
            "process": F.names_of(d, "process", proc), "commodity": F.names_of(d, "commodity", com),
            "region": F.names_of(d, "region", reg), "year": year + dims.year0,
            "direction": pd.array(["in", "out"], dtype=_TEXT).take(out),
            "unit": pd.array([cu.get(c, "") for c in dims.names["commodity"]], dtype=_TEXT).take(com)}))

        self.trade_keys = _keys(unit_of(T["ship"][S4], "commodity", cu))
        self.supply_keys = _keys(unit_of(T["supply"][C3], "commodity", cu))
        # unmet demand summed over the steps of a demand curve
        un = T["unmet"]
        ukey = un["src"].to_numpy()
        self.unmet_first = np.flatnonzero(np.r_[True, ukey[1:] != ukey[:-1]]) if len(un) else np.zeros(0, np.int64)
        self.unmet_group = np.cumsum(np.r_[True, ukey[1:] != ukey[:-1]]) - 1 if len(un) else np.zeros(0, np.int64)
        self.unmet_keys = _keys(unit_of(un.iloc[self.unmet_first][C3], "commodity", cu))
        self.curve_rows = np.flatnonzero(un["curve"].to_numpy() >= 0)
        self.response_keys = _keys(unit_of(un.iloc[self.curve_rows][C3 + ["step"]], "commodity", cu))
        self.disposal_keys = _keys(unit_of(T["dispose"][C3], "commodity", cu))
        self.price_keys = _keys(T["balance"][C3].assign(unit=_per_name(T["balance"]["commodity"],
                                                                       lambda c: f"{money}/{cu.get(c, '')}" if money else cu.get(c, ""))))
        self.policy_keys = _keys(unit_of(T["policy"][["policy", "year"]], "policy", units.get("policy", {})))
        self.stock_keys = _keys(unit_of(T["stock"][C3], "commodity", cu))
        self.stock_src = T["stock"]["src"].to_numpy()
        self.investment_keys = _keys(unit_of(T["new"][P3], "process", pu))
        self.money = money
        self.balance_year = T["balance"]["y"].to_numpy()
        self.policy_year = T["policy"]["y"].to_numpy()
        self.policy_sense = _full_sense(d, "policy")
        self.components = cost_components(d)
        # families that declare a result table of their own
        self.own = [(ev.family.result, name, ev.family.result_column) for name, ev in d.vars.items() if ev.family.result]
        self.own_keys = {table: _keys(T[d.vars[name].family.table], F.TABLE[d.vars[name].family.table].keys)
                         for table, name, _ in self.own}
        self._key_frames = None

    def parameters(self) -> dict[str, np.ndarray]:
        """The params the tables read (those of the ModelData)."""
        return self.data.params

    def build(self, values: dict[str, np.ndarray], duals: dict[str, np.ndarray], objective: float | None,
              parameters: dict[str, np.ndarray] | None = None, **meta) -> Result:
        """An optimal :class:`Result` with every table, from the solution (as for
        :func:`build_result`) and ``parameters`` (default: the params of the ModelData)."""
        res = Result(status="optimal", objective=objective, **meta)
        res.tables = self.frames(self.columns(values, duals, parameters))
        return res

    @property
    def key_frames(self) -> dict[str, pd.DataFrame]:
        """The key columns of every result table (those of :data:`TABLE_COLUMNS` not in
        :data:`VALUE_COLUMNS`), in the tables' row order; shared, not to be written into."""
        if self._key_frames is None:
            k = len(self.components)
            costs = pd.DataFrame({"year": np.repeat(np.asarray(self.years, dtype=np.int64), k),
                                  "component": np.tile(np.array(self.components, dtype=object), len(self.years))})
            costs = _keys(costs.assign(unit=self.money))
            self._key_frames = {
                "capacity": self.capacity_keys, "activity": self.activity_keys, "flows": self.flow_keys,
                "trade": self.trade_keys, "supply": self.supply_keys, "unmet": self.unmet_keys,
                "disposal": self.disposal_keys, "prices": self.price_keys, "policies": self.policy_keys,
                "costs": costs, "stock": self.stock_keys, "demand_response": self.response_keys,
                "investment": self.investment_keys, **self.own_keys,
            }
        return self._key_frames

    def columns(self, values: dict[str, np.ndarray], duals: dict[str, np.ndarray],
                parameters: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """The value columns (:data:`VALUE_COLUMNS`) of every result table, as float arrays
        aligned with :attr:`key_frames`: the tables without building a DataFrame, for
        re-solves that only need the numbers (sweeps). :meth:`frames` makes the tables."""
        d = self.data
        p = d.params if parameters is None else parameters
        x = {k: clean(v) for k, v in values.items()}
        df = p["df"]

        n = len(self.capacity_keys)
        residual, total, new, activity = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        residual[self.cap_pos] = p["residual"]
        total[self.cap_pos] = x["cap"]
        new[self.new_pos] = x["new"]
        activity[self.cap_pos] = x["act"][self.cap_act]
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(total > 0, activity / total, 0.0)

        part = self.flow_part
        flows = np.bincount(self.flow_group, weights=np.abs(part.values(p)) * x["act"][part.pick.vars],
                            minlength=len(self.flow_keys)) if len(self.flow_group) else np.zeros(0)
        unmet = np.bincount(self.unmet_group, weights=x["unmet"], minlength=len(self.unmet_keys)) if len(self.unmet_group) else np.zeros(0)
        c = self.curve_rows

        viol = np.nan_to_num(x.get("violation", np.zeros(len(self.policy_keys))))
        pol = d.rows["policy"]
        activity_pol = row_activity(pol, x, p)
        rhs = row_rhs(pol, p)
        slack = np.where(self.policy_sense < 0, rhs - activity_pol, activity_pol - rhs)
        grad = gradient(d, "policy_value", x, duals, p)
        shadow = clean(grad / df[self.policy_year], 1e-10) if len(self.policy_keys) else np.zeros(0)
        price = clean(np.asarray(duals["balance"], dtype=float) / df[self.balance_year], 1e-10) if len(self.price_keys) else np.zeros(0)
        und = costs_by_year(d, x, p)  # years x components
        return {
            "capacity": {"residual": residual, "new": new, "total": total, "utilisation": clean(util)},
            "activity": {"activity": x["act"]},
            "flows": {"quantity": clean(flows)},
            "trade": {"quantity": x["ship"]},
            "supply": {"quantity": x["supply"]},
            "unmet": {"quantity": clean(unmet)},
            "disposal": {"quantity": x["dispose"]},
            "prices": {"price": price},
            "policies": {"shadow_price": shadow, "slack": clean(slack), "violation": clean(viol)},
            "costs": {"undiscounted": und.ravel(), "discounted": (und * df[:, None]).ravel()},
            "stock": {"level": x["stock"], "holding_cost": p["holding_cost"][self.stock_src]},
            "demand_response": {"share": p["unmet_share"][c], "price": p["unmet_penalty"][c], "unmet": x["unmet"][c]},
            "investment": {"new": x["new"], "capex": p["capex"], "overnight": clean(p["capex"] * x["new"])},
            **{table: {column: x[name]} for table, name, column in self.own},
        }

    def frames(self, columns: dict[str, dict[str, np.ndarray]]) -> dict[str, pd.DataFrame]:
        """The result tables from :meth:`columns` (each a new DataFrame)."""
        keys = self.key_frames
        out = {}
        for name in columns:
            t = _with(keys[name], **columns[name])
            out[name] = t[TABLE_COLUMNS[name]] if name in TABLE_COLUMNS else t
        return out


def _with(keys: pd.DataFrame, **values) -> pd.DataFrame:
    # with copy-on-write (always on from pandas 3) the key columns are shared until written into
    out = keys.copy(deep=not _COPY_ON_WRITE)
    for k, v in values.items():
        out[k] = np.asarray(v, dtype="float64")
    return out


def _keys(t: pd.DataFrame, cols=None) -> pd.DataFrame:
    """Key columns in pandas' own string dtype (``str`` from pandas 3), whichever way the
    table holds them, so every result table has the same column types."""
    k = (t if cols is None else t[list(cols)]).reset_index(drop=True)
    out = {}
    for c in k.columns:
        if c in ("year", "vintage", "step"):
            out[c] = k[c].astype("int64")
        elif k[c].dtype == object or str(k[c].dtype) in ("str", "string") or c in _NAME_COLUMNS:
            out[c] = k[c].astype(_TEXT)
        else:
            out[c] = k[c]
    return pd.DataFrame(out)


def _decode_keys(d: ModelData, keys: np.ndarray, cols) -> dict:
    from .families import _decode

    named, _ = _decode(d, keys, cols)
    return named


def _full_sense(d: ModelData, family: str) -> np.ndarray:
    """The sense of every row of the family's index table (members or not)."""
    f = d.rows[family].family
    n = d.rows[family].size
    from .description import SENSES

    return np.asarray(f.sense(d), dtype=np.int64) if callable(f.sense) else np.full(n, SENSES[f.sense], dtype=np.int64)


def row_activity(er, x: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> np.ndarray:
    """Σ terms of each row of a row family's index table at the solution ``x`` (0 for rows
    that are not members)."""
    out = np.zeros(er.size)
    for part in er.terms:
        if part.size:
            out += np.bincount(part.pick.rows, weights=part.values(params) * x[part.decl.var][part.pick.vars], minlength=er.size)
    return out


def row_rhs(er, params: dict[str, np.ndarray]) -> np.ndarray:
    """The right-hand side of each row of a row family's index table (members or not)."""
    out = np.zeros(er.size)
    for part in er.rhs:
        if part.size:
            out += np.bincount(part.pick.rows, weights=part.values(params), minlength=er.size)
    return out


def gradient(d: ModelData, param: str, x: dict, duals: dict, params: dict) -> np.ndarray:
    """∂ objective / ∂ params[param][i] at the optimum (discounted), by the envelope theorem:
    Σ over the entries that read it of dual × ∂rhs, − dual × value × ∂coefficient (terms), and
    value × DF × ∂cost (costs)."""
    n = len(d.tables[F.PARAM[param].table])
    out = np.zeros(n)

    def add(part, weights):
        for k, (name, _) in enumerate(part.coef.params):
            if name == param and part.size:
                w = weights * part.coef.derivative(param, params, part.pick.index, part.size)
                out[:] += np.bincount(part.pick.index[k], weights=w, minlength=n)
                break

    for name, er in d.rows.items():
        y = np.asarray(duals.get(name, np.zeros(er.size)), dtype=float)
        for part in er.rhs:
            add(part, y[part.pick.rows])
        for part in er.terms:
            add(part, -y[part.pick.rows] * x[part.decl.var][part.pick.vars])
    for name, ev in d.vars.items():
        for part in ev.costs:
            add(part, x[name][part.pick.vars] * params["df"][part.pick.years])
    return out


def cost_components(d: ModelData) -> tuple[str, ...]:
    """The cost components, in the order the variable families declare them."""
    out = []
    for ev in d.vars.values():
        for c in ev.family.costs:
            if c.component not in out:
                out.append(c.component)
    return tuple(out)


def costs_by_year(d: ModelData, x: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> np.ndarray:
    """Cost components by year, undiscounted (money of that year): years x components."""
    comps = cost_components(d)
    ny = len(d.years)
    out = np.zeros((ny, len(comps)))
    for name, ev in d.vars.items():
        for part in ev.costs:
            if part.size:
                k = comps.index(part.decl.component)
                out[:, k] += np.bincount(part.pick.years, weights=part.values(params) * x[name][part.pick.vars], minlength=ny)
    return out


def objective_from_costs(result: Result) -> float:
    """The discounted total of the cost table (equals the objective at an optimum)."""
    return float(result.costs["discounted"].sum())


def isclose(a: float, b: float, rel: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
