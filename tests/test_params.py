"""The parameter map (rechain.model.params): changed numbers mapped onto the LP give exactly the
arrays of a full prepare + assemble, and changes of shape are refused, never mapped wrongly."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

import rechain.instances as ri
from instance_gen import write_instance
from rechain.model import load_instance
from rechain.model.data import prepare
from rechain.model.matrix import assemble
from rechain.model.params import MAPPED, ParameterMap, ShapeChange
from rechain.model.results import ResultLayout
from rechain.solvers.direct import DirectModel, solve_direct

SHIPPED = list(ri.names())
SEEDS = [1, 2, 3, 5, 8, 13]


def _map(inst):
    d = prepare(inst)
    lp = assemble(d)
    return ParameterMap(inst, d, lp, ResultLayout(d).parameters())


def _changed(inst, table, column, factor_of, rows=None):
    """A copy of ``inst`` with ``column`` of ``table`` multiplied, row by row, by ``factor_of(i)``."""
    new = inst.copy()
    df = new.tables[table].copy()
    pos = range(len(df)) if rows is None else rows
    vals = df[column].astype("float64").to_numpy(na_value=np.nan).copy()
    for i in pos:
        vals[i] = vals[i] * factor_of(i)
    df[column] = vals
    new.tables[table] = df
    return new


def _assert_same(update, inst):
    """The mapped arrays equal those of a full prepare + assemble of ``inst``."""
    d = prepare(inst)
    full = assemble(d)
    got = update.lp
    for k in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_array_equal(getattr(got, k), getattr(full, k), err_msg=k)
    np.testing.assert_array_equal(got.matrix.indptr, full.matrix.indptr)
    np.testing.assert_array_equal(got.matrix.indices, full.matrix.indices)
    np.testing.assert_array_equal(got.matrix.data, full.matrix.data)
    want = ResultLayout(d).parameters()
    for k, v in want.items():
        np.testing.assert_array_equal(update.parameters[k], v, err_msg=k)


def _instances(tmp_path_factory):
    out = [(n, load_instance(ri.path(n))) for n in SHIPPED]
    for s in SEEDS:
        folder = tmp_path_factory.mktemp(f"gen{s}")
        out.append((f"gen{s}", load_instance(write_instance(folder, s))))
    return out


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    return _instances(tmp_path_factory)


def test_every_mapped_column_alone_gives_the_full_arrays(instances):
    """Each mapped column, scaled row by row by factors in [0.5, 1.5] (so nothing turns zero
    or blank): no shape change, and the arrays of the full path, bit for bit."""
    checked = 0
    for name, inst in instances:
        pm = _map(inst)
        rng = random.Random(name)
        for table, column in sorted(MAPPED):
            if not len(inst.tables[table]) or inst.tables[table][column].isna().all():
                continue
            changed = _changed(inst, table, column, lambda i: rng.uniform(0.5, 1.5))
            try:
                upd = pm.apply(changed)
            except ShapeChange as e:
                # only a policy that covers nothing (its row is Pyomo's Constraint.Feasible or
                # an error) may refuse a positive scaling
                assert (table, column) == ("policies", "value"), f"{name}: {table}.{column}: {e}"
                assert (pm.data.policy["n_terms"] == 0).any()
                continue
            assert upd.changed == [(table, column)]
            _assert_same(upd, changed)
            checked += 1
    assert checked >= 100


def test_many_columns_at_once(instances):
    for name, inst in instances:
        pm = _map(inst)
        rng = random.Random(f"all-{name}")
        changed = inst
        for table, column in sorted(MAPPED - {("policies", "value")}):
            if len(inst.tables[table]):
                changed = _changed(changed, table, column, lambda i: rng.uniform(0.7, 1.3))
        _assert_same(pm.apply(changed), changed)


def test_an_unchanged_instance_gives_the_base_arrays(instances):
    name, inst = instances[0]
    pm = _map(inst)
    upd = pm.apply(inst.copy())
    assert upd.changed == []
    _assert_same(upd, inst)


@pytest.mark.parametrize("change", [
    ("demand", "quantity", 0.0),             # a demand row turns zero: its unmet column goes
    ("supply", "max_quantity", 0.0),         # a supply limit of zero: the supply column goes
    ("supply", "max_quantity", math.nan),    # a limit turns blank: its row goes
    ("trade", "max_quantity", math.nan),
    ("policies", "penalty", math.nan),       # a soft policy turns hard: its violation column goes
    ("capacity", "capacity", 0.0),           # residual capacity vanishes
    ("build_limits", "max_new", 0.0),        # no more building: the new columns go
], ids=lambda c: f"{c[0]}.{c[1]}={c[2]}")
def test_changes_of_shape_are_refused(change, instances):
    """Setting one cell so that a row or column would appear or vanish is refused (or, where
    the full path happens to keep the shape, gives its arrays exactly)."""
    table, column, value = change
    refused = 0
    for name, inst in instances:
        pm = _map(inst)
        df = inst.tables[table]
        for i in np.flatnonzero(df[column].astype("float64").fillna(0).to_numpy() > 0)[:6]:
            changed = inst.copy()
            t = changed.tables[table].copy()
            t[column] = t[column].astype("float64")
            t.loc[t.index[i], column] = value
            changed.tables[table] = t
            try:
                upd = pm.apply(changed)
            except ShapeChange:
                refused += 1
                continue
            _assert_same(upd, changed)
    assert refused, f"no change of {table}.{column} to {value} was refused"


def test_settings_and_names_are_refused():
    inst = load_instance(ri.path())
    pm = _map(inst)
    with pytest.raises(ShapeChange):
        pm.apply(inst.with_changes({"table": "instance", "column": "discount_rate", "set": 0.05}))
    renamed = inst.copy()
    t = renamed.tables["demand"].copy()
    t.loc[t.index[0], "region"] = "jiangxi" if t["region"].iloc[0] != "jiangxi" else "inner_mongolia"
    renamed.tables["demand"] = t
    with pytest.raises(ShapeChange):
        pm.apply(renamed)
    with pytest.raises(ShapeChange):
        pm.apply(inst.with_changes({"table": "processes", "column": "lifetime", "scale": 2}))


def test_direct_model_updates_in_place_and_matches_fresh_solves():
    """A DirectModel re-solving scenarios through the map gives the objective and tables of a
    fresh solve of each scenario; a change of shape falls back to prepare + assemble."""
    inst = load_instance(ri.path())
    m = DirectModel(inst)
    assert m.solve().ok
    runs = [
        ({"table": "demand", "where": {"commodity": "nev"}, "column": "quantity", "scale": 1.25}, "mapped"),
        ({"table": "supply", "column": "price", "scale": 1.4}, "mapped"),
        ({"table": "processes", "column": "availability", "scale": 0.9}, "mapped"),
        ({"table": "process_io", "where": {"process": "recycling_swarf", "commodity": "prnd_oxide"}, "column": "coefficient", "scale": 1.2}, "mapped"),
        ({"table": "policies", "where": {"policy": "im_magnet_target"}, "column": "value", "scale": 0.8}, "mapped"),
        ({"table": "capacity", "column": "capacity", "scale": 1.1}, "mapped"),
        ({"table": "processes", "column": "capex", "scale": 1.3}, "mapped"),
        ({"table": "instance", "column": "discount_rate", "set": 0.04}, "prepared"),
    ]
    for ch, how in runs:
        changed = inst.with_changes(ch)
        got = m.update(changed).solve()
        assert m.last_update == how, ch
        want = solve_direct(changed)
        assert got.ok and want.ok
        assert math.isclose(got.objective, want.objective, rel_tol=1e-7), ch
        for name in ("capacity", "flows", "costs", "policies", "supply"):
            a, b = getattr(got, name), getattr(want, name)
            assert list(a.columns) == list(b.columns) and len(a) == len(b)
        # the cost table adds up to the objective with the changed numbers
        assert math.isclose(got.costs["discounted"].sum(), got.objective, rel_tol=1e-7), ch
        pd.testing.assert_series_equal(got.capacity["residual"], want.capacity["residual"], check_exact=False, rtol=1e-12)
        # data is prepared again on request, for the changed instance
        assert m.data.cap["residual"].sum() == pytest.approx(prepare(changed).cap["residual"].sum())
