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
from .matrix import pairs_by_code
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
            t = tables.get(item)
            return t if t is not None else _empty(item)
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


#: the parameters the result tables read, per ModelData table row (see :meth:`ResultLayout.parameters`)
PARAMETERS = ("residual", "io", "policy_value", "cost_act", "cost_new", "cost_cap", "cost_supply", "cost_ship",
              "cost_unmet", "cost_dispose", "cost_violation")


class ResultLayout:
    """Everything about the result tables of one ModelData that does not depend on the
    solution: their key columns, in their final order, and index arrays from each variable
    family into them. :meth:`build` then makes a :class:`Result` from solution arrays with
    numpy alone, so re-solves of the same model (sweeps) pay little for their tables.

    The parameters the tables read (residual capacity, io coefficients, policy values, unit
    costs) are given to :meth:`build` as arrays (:meth:`parameters`), so a model whose numbers
    were changed in place need not be prepared again.
    """

    def __init__(self, data: ModelData):
        d = self.data = data
        P3 = ["process", "region", "year"]
        self.years = list(d.years)
        self.df = np.array([d.df[y] for y in self.years], dtype=float)
        year_pos = {y: i for i, y in enumerate(self.years)}

        def ypos(col) -> np.ndarray:
            return np.fromiter((year_pos[int(y)] for y in col), dtype=np.int64, count=len(col))

        def keys(t: pd.DataFrame, cols) -> pd.DataFrame:
            # names in pandas' own string dtype (``str`` from pandas 3), whichever way the
            # ModelData table holds them, so every result table has the same column types
            k = t[list(cols)].reset_index(drop=True)
            for c in k.columns:
                if k[c].dtype == object:
                    k[c] = k[c].astype(_TEXT)
            if "year" in k.columns:
                k["year"] = k["year"].astype("int64")
            return k

        # capacity: the union of the keys of cap (residual, total, activity) and new, sorted
        both = pd.concat([keys(d.cap, P3).assign(_src=0, _i=np.arange(len(d.cap))),
                          keys(d.new, P3).assign(_src=1, _i=np.arange(len(d.new)))], ignore_index=True)
        inv = pd.factorize(pd.MultiIndex.from_frame(both[P3]))[0] if len(both) else np.zeros(0, dtype=np.int64)
        first = np.full(int(inv.max()) + 1 if len(inv) else 0, -1, dtype=np.int64)
        first[inv[::-1]] = np.arange(len(both))[::-1]
        cap_keys = both.iloc[first][P3].reset_index(drop=True)
        order = cap_keys.sort_values(P3, kind="stable").index.to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.capacity_keys = cap_keys.iloc[order].reset_index(drop=True)
        src = both["_src"].to_numpy()
        self.cap_pos = rank[inv[src == 0]]  # row of the capacity table of each cap row
        self.new_pos = rank[inv[src == 1]]  # ... and of each new row
        self.activity_keys = keys(d.cap, P3)

        # flows: every cap row with every io row of its process, sorted
        io_proc = d.io["process"].to_numpy()
        pc = pd.Index(pd.unique(np.concatenate([d.cap["process"].to_numpy(dtype=object), io_proc.astype(object)]))) if len(d.cap) else pd.Index([])
        cap_pc = pc.get_indexer(d.cap["process"].to_numpy(dtype=object)) if len(d.cap) else np.zeros(0, dtype=np.int64)
        io_pc = pc.get_indexer(io_proc.astype(object)) if len(pc) else np.full(len(io_proc), -1)
        fc, fi = pairs_by_code(cap_pc, io_pc)
        signed = d.io["coefficient"].to_numpy(dtype=float)
        fl = self.activity_keys.iloc[fc].reset_index(drop=True)
        fl["commodity"] = d.io["commodity"].to_numpy()[fi] if len(fi) else pd.Series([], dtype=object)
        fl["direction"] = np.where(signed[fi] > 0, "out", "in")
        fl = fl[["process", "commodity", "region", "year", "direction"]]
        forder = fl.sort_values(["process", "region", "year", "direction", "commodity"], kind="stable").index.to_numpy()
        self.flow_keys = fl.iloc[forder].reset_index(drop=True)
        self.flow_cap, self.flow_io = fc[forder], fi[forder]

        self.trade_keys = keys(d.ship, ["commodity", "origin", "destination", "year"])
        self.supply_keys = keys(d.supply, ["commodity", "region", "year"])
        self.unmet_keys = keys(d.unmet, ["commodity", "region", "year"])
        self.disposal_keys = keys(d.dispose, ["commodity", "region", "year"])
        self.price_keys = keys(d.balance, ["commodity", "region", "year"])
        self.policy_keys = keys(d.policy, ["policy", "year"])
        self.balance_df = self.df[ypos(d.balance["year"])] if len(d.balance) else np.zeros(0)
        self.policy_df = self.df[ypos(d.policy["year"])] if len(d.policy) else np.zeros(0)
        self.policy_max = (d.policy["sense"] == "max").to_numpy() if len(d.policy) else np.zeros(0, dtype=bool)

        # policy left-hand sides: (policy row, family, position in the family's table) per term
        self.terms = []
        t = d.policy_terms
        if len(t):
            pk = pd.MultiIndex.from_arrays([d.policy["policy"].to_numpy(), d.policy["year"].to_numpy()])
            trow = pk.get_indexer(pd.MultiIndex.from_arrays([t["policy"].to_numpy(), t["year"].to_numpy()]))
            var = t["var"].to_numpy()
            for fam in pd.unique(var):
                sel = np.flatnonzero(var == fam)
                table, cols = FAMILY_TABLE[fam]
                base = getattr(d, table)
                idx = pd.MultiIndex.from_frame(base[cols]) if len(base) else pd.MultiIndex.from_arrays([[]] * len(cols))
                pos = idx.get_indexer(pd.MultiIndex.from_tuples(list(t["key"].to_numpy()[sel]), names=cols))
                self.terms.append((fam, trow[sel], pos))

        # cost table: the year (position) of each row of each family, and the online years of vintages
        self.year_of = {
            "cap": ypos(d.cap["year"]) if len(d.cap) else np.zeros(0, dtype=np.int64),
            "supply": ypos(d.supply["year"]) if len(d.supply) else np.zeros(0, dtype=np.int64),
            "ship": ypos(d.ship["year"]) if len(d.ship) else np.zeros(0, dtype=np.int64),
            "unmet": ypos(d.unmet["year"]) if len(d.unmet) else np.zeros(0, dtype=np.int64),
            "dispose": ypos(d.dispose["year"]) if len(d.dispose) else np.zeros(0, dtype=np.int64),
            "policy": ypos(d.policy["year"]) if len(d.policy) else np.zeros(0, dtype=np.int64),
        }
        if len(d.online) and len(d.new):
            nk = pd.MultiIndex.from_frame(d.new[P3])
            self.online_new = nk.get_indexer(pd.MultiIndex.from_arrays(
                [d.online["process"].to_numpy(), d.online["region"].to_numpy(), d.online["vintage"].to_numpy()]))
            self.online_year = ypos(d.online["year"])
        else:
            self.online_new = self.online_year = np.zeros(0, dtype=np.int64)
        self._key_frames = None

    def parameters(self) -> dict[str, np.ndarray]:
        """The numbers the tables read, from the ModelData: ``residual`` (per cap row), ``io``
        (signed coefficient per io row), ``policy_value`` (per policy row) and the unit cost
        of each variable family in money of its year (``cost_new`` is the annuity)."""
        d = self.data
        proc = d.process

        def per_process(col, t):
            return proc[col].reindex(t["process"]).to_numpy(dtype=float) if len(t) else np.zeros(0)

        return {
            "residual": d.cap["residual"].to_numpy(dtype=float).copy(),
            "io": d.io["coefficient"].to_numpy(dtype=float).copy(),
            "policy_value": d.policy["value"].to_numpy(dtype=float).copy() if len(d.policy) else np.zeros(0),
            "cost_act": per_process("variable_cost", d.cap),
            "cost_cap": per_process("fixed_om", d.cap),
            "cost_new": per_process("annuity", d.new),
            "cost_supply": d.supply["price"].to_numpy(dtype=float).copy(),
            "cost_ship": d.ship["cost"].to_numpy(dtype=float).copy(),
            "cost_unmet": d.unmet["penalty"].to_numpy(dtype=float).copy(),
            "cost_dispose": d.dispose["cost"].to_numpy(dtype=float).copy(),
            "cost_violation": d.policy["penalty"].fillna(0.0).to_numpy(dtype=float) if len(d.policy) else np.zeros(0),
        }

    def build(self, values: dict[str, np.ndarray], duals: dict[str, np.ndarray], objective: float | None,
              parameters: dict[str, np.ndarray] | None = None, **meta) -> Result:
        """An optimal :class:`Result` with every table, from the solution (as for
        :func:`build_result`) and ``parameters`` (default: those of the ModelData)."""
        res = Result(status="optimal", objective=objective, **meta)
        res.tables = self.frames(self.columns(values, duals, parameters))
        return res

    @property
    def key_frames(self) -> dict[str, pd.DataFrame]:
        """The key columns of every result table (those of :data:`TABLE_COLUMNS` not in
        :data:`VALUE_COLUMNS`), in the tables' row order; shared, not to be written into."""
        if self._key_frames is None:
            k = len(COST_COMPONENTS)
            costs = pd.DataFrame({"year": np.repeat(np.asarray(self.years, dtype=np.int64), k),
                                  "component": np.tile(np.array(COST_COMPONENTS, dtype=object), len(self.years))})
            self._key_frames = {
                "capacity": self.capacity_keys, "activity": self.activity_keys, "flows": self.flow_keys,
                "trade": self.trade_keys, "supply": self.supply_keys, "unmet": self.unmet_keys,
                "disposal": self.disposal_keys, "prices": self.price_keys, "policies": self.policy_keys,
                "costs": costs,
            }
        return self._key_frames

    def columns(self, values: dict[str, np.ndarray], duals: dict[str, np.ndarray],
                parameters: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """The value columns (:data:`VALUE_COLUMNS`) of every result table, as float arrays
        aligned with :attr:`key_frames`: the tables without building a DataFrame, for
        re-solves that only need the numbers (sweeps). :meth:`frames` makes the tables."""
        p = self.parameters() if parameters is None else parameters
        act = clean(values["act"])
        cap_v = clean(values["cap"])
        new_v = clean(values["new"])
        ship = clean(values["ship"])
        supply = clean(values["supply"])
        unmet = clean(values["unmet"])
        dispose = clean(values["dispose"])
        npol = len(self.policy_keys)
        viol = np.nan_to_num(np.asarray(values.get("violation", np.zeros(npol)), dtype=float))

        n = len(self.capacity_keys)
        residual, total, new, activity = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        residual[self.cap_pos] = p["residual"]
        total[self.cap_pos] = cap_v
        new[self.new_pos] = new_v
        activity[self.cap_pos] = act
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(total > 0, activity / total, 0.0)

        lhs = np.zeros(npol)
        fam_values = {"act": act, "cap": cap_v, "new": new_v, "supply": supply, "ship": ship}
        for fam, rows, pos in self.terms:
            lhs += np.bincount(rows, weights=fam_values[fam][pos], minlength=npol)
        value = p["policy_value"]
        slack = np.where(self.policy_max, value - (lhs - viol), (lhs + viol) - value)
        shadow = clean(np.asarray(duals["policy"], dtype=float) / self.policy_df, 1e-10) if npol else np.zeros(0)
        price = clean(np.asarray(duals["balance"], dtype=float) / self.balance_df, 1e-10) if len(self.price_keys) else np.zeros(0)
        und = self._costs(p, act, cap_v, new_v, supply, ship, unmet, dispose, viol)  # years x components
        return {
            "capacity": {"residual": residual, "new": new, "total": total, "utilisation": clean(util)},
            "activity": {"activity": act},
            "flows": {"quantity": clean(act[self.flow_cap] * np.abs(p["io"][self.flow_io]))},
            "trade": {"quantity": ship},
            "supply": {"quantity": supply},
            "unmet": {"quantity": unmet},
            "disposal": {"quantity": dispose},
            "prices": {"price": price},
            "policies": {"shadow_price": shadow, "slack": clean(slack), "violation": clean(viol)},
            "costs": {"undiscounted": und.ravel(), "discounted": (und * self.df[:, None]).ravel()},
        }

    def frames(self, columns: dict[str, dict[str, np.ndarray]]) -> dict[str, pd.DataFrame]:
        """The result tables from :meth:`columns` (each a new DataFrame)."""
        keys = self.key_frames
        return {name: _with(keys[name], **columns[name]) for name in columns}

    def _costs(self, p, act, cap_v, new_v, supply, ship, unmet, dispose, viol) -> np.ndarray:
        """Cost components by year (undiscounted, in money of that year): years x components."""
        ny = len(self.years)
        y = self.year_of

        def by_year(pos, amounts):
            return np.bincount(pos, weights=amounts, minlength=ny) if len(pos) else np.zeros(ny)

        parts = {
            # capex: the annuity of every vintage in each year it is online
            "capex": by_year(self.online_year, new_v[self.online_new] * p["cost_new"][self.online_new]) if len(self.online_new) else np.zeros(ny),
            "fixed_om": by_year(y["cap"], cap_v * p["cost_cap"]),
            "variable": by_year(y["cap"], act * p["cost_act"]),
            "supply": by_year(y["supply"], supply * p["cost_supply"]),
            "trade": by_year(y["ship"], ship * p["cost_ship"]),
            "unmet": by_year(y["unmet"], unmet * p["cost_unmet"]),
            "disposal": by_year(y["dispose"], dispose * p["cost_dispose"]),
            "violation": by_year(y["policy"], viol * p["cost_violation"]),
        }
        return np.column_stack([parts[c] for c in COST_COMPONENTS])  # years x components


def _with(keys: pd.DataFrame, **values) -> pd.DataFrame:
    # with copy-on-write (always on from pandas 3) the key columns are shared until written into
    out = keys.copy(deep=not _COPY_ON_WRITE)
    for k, v in values.items():
        out[k] = np.asarray(v, dtype="float64")
    return out


FAMILY_TABLE = {"act": ("cap", ["process", "region", "year"]), "cap": ("cap", ["process", "region", "year"]),
                "new": ("new", ["process", "region", "year"]), "supply": ("supply", ["commodity", "region", "year"]),
                "ship": ("ship", ["commodity", "origin", "destination", "year"])}


def objective_from_costs(result: Result) -> float:
    """The discounted total of the cost table (equals the objective at an optimum)."""
    return float(result.costs["discounted"].sum())


def isclose(a: float, b: float, rel: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
