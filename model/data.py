"""The LP of an instance as data: sparse index tables, parameters and the parts of every
family (:mod:`rechain.model.families`), computed once by :func:`prepare`.

Every variable and row family exists only where the data give it meaning; the tables are
plain DataFrames and the parts are numpy arrays, so the Pyomo model, the LP arrays, the
parameter map and the result tables all read the same positions, and no rule ever filters a
Cartesian product.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .description import EmittedRows, EmittedVars, ParamView, StructureView, emit
from . import families as F
from .families import crf  # noqa: F401  (public here too)
from .instance import Instance
from .keys import Dims
from .units import policy_units


def discount_factors(years: list[int], base_year: int, rate: float) -> dict[int, float]:
    """DF_y = (1 + i)^-(y - base_year)."""
    return {y: (1.0 + rate) ** -(y - base_year) for y in years}


@dataclass
class ModelData:
    """The index tables, params and emitted parts of one instance's LP.

    ``tables[name]``: the index tables of :data:`~rechain.model.families.INDEX_TABLES` (also
    ``d.<name>``), their key columns plus integer positions into other tables;
    ``params[name]``: the arrays of :data:`~rechain.model.families.PARAMS`, aligned with
    their table; ``vars`` / ``rows``: every family's members and parts
    (:class:`~rechain.model.description.EmittedVars`, ``EmittedRows``), in model order.
    """

    years: list[int]
    tables: dict[str, pd.DataFrame]
    params: dict[str, np.ndarray]
    dims: Dims
    vars: dict[str, EmittedVars] = field(default_factory=dict)
    rows: dict[str, EmittedRows] = field(default_factory=dict)
    aux: dict = field(default_factory=dict)

    def __getattr__(self, item: str):
        tables = self.__dict__.get("tables")
        if tables is not None and item in tables:
            return tables[item]
        raise AttributeError(item)

    @property
    def df(self) -> dict[int, float]:
        return dict(zip(self.years, self.params["df"].tolist()))

    def with_params(self, params: dict[str, np.ndarray]) -> "ModelData":
        """The same structure with other params (a changed instance of the same shape)."""
        return replace(self, params=dict(params))

    def keys(self, table: str, positions=None) -> list[tuple]:
        """Index tuples of the rows of ``table`` (all, or those at ``positions``)."""
        t = self.tables[table]
        cols = list(F.TABLE[table].keys)
        if positions is not None:
            t = t.iloc[np.asarray(positions, dtype=np.int64)]
        arrays = [t[c].to_numpy(dtype=object) if t[c].dtype == object else t[c].tolist() for c in cols]
        if len(cols) == 1:
            return [(x,) for x in arrays[0]]
        return list(zip(*arrays))


def _dims(inst: Instance) -> Dims:
    T = inst.tables
    cap_years = T["capacity"]["year"].dropna().astype(int)
    lo = min([inst.first_year] + ([int(cap_years.min())] if len(cap_years) else []))
    return Dims({"process": list(T["processes"]["process"]), "commodity": list(T["commodities"]["commodity"]),
                 "region": list(T["regions"]["region"]), "policy": list(T["policies"]["policy"])},
                inst.years, (lo, inst.last_year))


def derive(p, inst: Instance, d: ModelData) -> np.ndarray:
    """The values of param ``p`` for ``inst`` on the structure of ``d`` (checked)."""
    values = np.asarray(p.derive(ParamView(inst, p.reads, p.name), d), dtype=float)
    if p.check is not None:
        p.check(values, d, inst.label)
    return values


def prepare(inst: Instance) -> ModelData:
    """The index tables, params and parts of the LP of ``inst`` (raises
    :class:`~rechain.model.InstanceError` for a policy that can never hold)."""
    sv = StructureView(inst, F.SHAPES)
    d = ModelData(years=inst.years, tables={}, params={}, dims=_dims(inst))
    for t in F.INDEX_TABLES:
        d.tables[t.name] = t.build(sv, d)
    for p in F.PARAMS:
        d.params[p.name] = derive(p, inst, d)
    d.vars, d.rows = emit(F.VARS, F.ROWS, d)
    d.aux["units"] = _units(inst)
    return d


def _units(inst: Instance) -> dict:
    """The unit of each commodity, of each process's activity (its reference commodity's), of
    each policy's value (:func:`~rechain.model.units.policy_units`) and of money, for the result tables (informative: the model itself is unit-agnostic)."""
    com = inst.tables["commodities"]
    cu = {c: ("" if u is None or (isinstance(u, float) and u != u) else str(u)) for c, u in zip(com["commodity"], com["unit"])}
    io = inst.tables["process_io"]
    ref = io[io["reference"].astype(bool)]
    pu = {p: cu.get(c, "") for p, c in zip(ref["process"], ref["commodity"])}
    return {"commodity": cu, "process": pu, "money": str(inst.units.get("money", "")),
            "policy": policy_units(inst.tables["policies"], cu, pu)}
