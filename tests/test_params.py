"""The parameter map (rechain.model.params) fails closed: every number a scenario may change
either goes into the LP in place, giving exactly the arrays (and params) of a fresh prepare +
assemble, entry for entry, or is refused with RebuildRequired. Checked for every numeric
column of every table and every setting a scenario may change, on instances that hold every
family and every policy kind."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pandas as pd
import pytest

import rechain.instances as ri
from instance_gen import write_instance
from rechain.model import RebuildRequired, load_instance
from rechain.model.data import prepare
from rechain.model.families import MAPPED_SETTINGS, PARAMS, SHAPES
from rechain.model.changes import SCALAR_CHANGES
from rechain.model.matrix import assemble, differences
from rechain.model.params import ParameterMap
from rechain.model.schema import POLICY_KINDS, TABLES
from rechain.solvers.direct import DirectModel, solve_direct

SHIPPED = list(ri.names())
SEEDS = [1, 2, 3, 5, 8, 13]
#: every numeric column a scenario can change (``set`` or ``scale``)
NUMERIC = sorted((t.name, c.name) for t in TABLES.values() for c in t.columns if c.type in ("int", "float"))


def _map(inst):
    d = prepare(inst)
    return ParameterMap(inst, d, assemble(d))


def _assert_same(update, inst, what=""):
    """The mapped LP and params equal those of a fresh prepare + assemble of ``inst``."""
    d = prepare(inst)
    full = assemble(d)
    diff = differences(update.lp, full, d)
    assert not diff, f"{what}: the mapped LP differs from a fresh one:\n  " + "\n  ".join(diff)
    # explicit zeros and positions too, not only what a solver is given
    for k in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(update.lp.matrix, k), getattr(full.matrix, k), err_msg=f"{what}: {k}")
    for k, v in d.params.items():
        np.testing.assert_array_equal(update.params[k], v, err_msg=f"{what}: param {k}")


def _changed(inst, table, column, factor_of):
    """A copy of ``inst`` with ``column`` of ``table`` multiplied, row by row, by ``factor_of(i)``."""
    new = inst.copy()
    df = new.tables[table].copy()
    vals = df[column].astype("float64").to_numpy(na_value=np.nan).copy()
    for i in range(len(vals)):
        vals[i] = vals[i] * factor_of(i)
    if TABLES[table].column(column).type == "int":
        df[column] = pd.array([None if np.isnan(v) else int(round(v)) for v in vals], dtype="Int64")
    else:
        df[column] = vals
    new.tables[table] = df
    return new


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    out = [(n, load_instance(ri.path(n))) for n in SHIPPED]
    for s in SEEDS:
        folder = tmp_path_factory.mktemp(f"gen{s}")
        out.append((f"gen{s}", load_instance(write_instance(folder, s, every_kind=True))))
    out.append(("modules", lumpy(tmp_path_factory.mktemp("modules"))))
    return out


def lumpy(folder):
    """Plant modules and a least build (the MILP families): a plant in modules of 10, another
    built at 15 or more (at most 100) or not at all."""
    from lpkit import make_instance

    return make_instance(folder, commodities={"good": {"unmet_penalty": 3}},
                         processes={"a": {"capex": 1.0, "lifetime": 2, "unit_size": 10},
                                    "b": {"capex": 1.2, "lifetime": 2, "min_build": 15}},
                         io=[("a", "good", "out", 1), ("b", "good", "out", 1)],
                         build_limits=[("a", "r", None, 40), ("b", "r", None, 100)],
                         demand=[("good", "r", 2021, 12), ("good", "r", 2022, 31)], years=(2021, 2022))


def test_the_instances_hold_every_family_and_policy_kind(instances):
    kinds, families = set(), set()
    for _, inst in instances:
        kinds |= set(inst.policies["kind"])
        d = prepare(inst)
        families |= {f for f, ev in d.vars.items() if len(ev.members)} | {f for f, er in d.rows.items() if len(er.members)}
    assert kinds == set(POLICY_KINDS)
    assert families == set(d.vars) | set(d.rows)


def test_every_numeric_column_maps_exactly_or_is_refused(instances):
    """Each numeric column, scaled row by row by factors in [0.5, 1.5] (shapes stay), is either
    mapped (exactly the fresh arrays) or refused; the columns of SHAPES are always mapped."""
    mapped = {c: 0 for c in NUMERIC}
    for name, inst in instances:
        pm = _map(inst)
        rng = random.Random(name)
        for table, column in NUMERIC:
            if not len(inst.tables[table]) or inst.tables[table][column].isna().all():
                continue
            changed = _changed(inst, table, column, lambda i: rng.uniform(0.5, 1.5))
            if changed.tables[table][column].equals(inst.tables[table][column]):
                continue  # whole numbers that rounded back
            try:
                upd = pm.apply(changed)
            except RebuildRequired:
                assert (table, column) not in SHAPES, f"{name}: {table}.{column} keeps its shape but was refused"
                continue
            assert (table, column) in SHAPES, f"{name}: {table}.{column} was mapped but decides the structure"
            assert upd.changed == [(table, column)]
            _assert_same(upd, changed, f"{name}: {table}.{column}")
            mapped[(table, column)] += 1
    never = [c for c in SHAPES if mapped[c] == 0]
    assert not never, f"never exercised: {never}"


@pytest.mark.parametrize("setting", sorted(SCALAR_CHANGES))
def test_every_setting_maps_exactly_or_is_refused(setting, instances):
    for name, inst in instances:
        value = getattr(inst, setting)
        if value is None:
            continue
        new = {"discount_rate": value * 0.7 + 0.01, "unmet_penalty": value * 1.3, "base_year": value - 1}[setting]
        changed = inst.with_changes({"table": "instance", "column": setting, "set": new})
        try:
            upd = _map(inst).apply(changed)
        except RebuildRequired:
            assert setting not in MAPPED_SETTINGS
            continue
        assert setting in MAPPED_SETTINGS
        _assert_same(upd, changed, f"{name}: {setting}")


def test_many_columns_at_once(instances):
    for name, inst in instances:
        pm = _map(inst)
        rng = random.Random(f"all-{name}")
        changed = inst
        for table, column in sorted(SHAPES):
            if len(inst.tables[table]):
                changed = _changed(changed, table, column, lambda i: rng.uniform(0.7, 1.3))
        changed = dataclasses.replace(changed, discount_rate=0.031)
        _assert_same(pm.apply(changed), changed, name)


def test_an_unchanged_instance_gives_the_base_arrays(instances):
    name, inst = instances[0]
    upd = _map(inst).apply(inst.copy())
    assert upd.changed == []
    _assert_same(upd, inst)


def test_every_param_declares_what_it_reads(instances):
    """A param reads its instance only through a view holding the columns it declares: a
    derivation that reached for another column would raise here."""
    for name, inst in instances:
        d = prepare(inst)  # derives every param through its view
        assert set(d.params) == {p.name for p in PARAMS}
    for p in PARAMS:
        for table, column in p.reads:
            assert table == "instance" or column in TABLES[table].column_names, (p.name, table, column)


@pytest.mark.parametrize("change", [
    ("demand", "quantity", 0.0),             # a demand row turns zero: its unmet column goes
    ("supply", "max_quantity", 0.0),         # a supply limit of zero: the supply column goes
    ("supply", "max_quantity", math.nan),    # a limit turns blank: its row goes
    ("trade", "max_quantity", math.nan),
    ("policies", "penalty", math.nan),       # a soft policy turns hard: its violation column goes
    ("capacity", "capacity", 0.0),           # residual capacity vanishes
    ("build_limits", "max_new", 0.0),        # no more building: the new columns go
    ("build_limits", "max_total", math.nan),  # a total limit turns blank: its row goes
    ("commodities", "disposal_cost", math.nan),  # no more disposal: its columns go
], ids=lambda c: f"{c[0]}.{c[1]}={c[2]}")
def test_changes_of_shape_are_refused(change, instances):
    """Setting one cell so that a row or column would appear or vanish is refused."""
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
            with pytest.raises(RebuildRequired, match="shape"):
                pm.apply(changed)
            refused += 1
    assert refused, f"no change of {table}.{column} to {value} was tried"


def test_settings_and_names_are_refused():
    inst = load_instance(ri.path())
    pm = _map(inst)
    with pytest.raises(RebuildRequired):
        pm.apply(inst.with_years(last=inst.last_year - 1))
    renamed = inst.copy()
    t = renamed.tables["demand"].copy()
    t.loc[t.index[0], "region"] = "jiangxi" if t["region"].iloc[0] != "jiangxi" else "inner_mongolia"
    renamed.tables["demand"] = t
    with pytest.raises(RebuildRequired):
        pm.apply(renamed)
    with pytest.raises(RebuildRequired):
        pm.apply(inst.with_changes({"table": "processes", "column": "lifetime", "scale": 2}))


def test_a_hard_min_policy_covering_nothing_is_checked_in_place_too():
    """A value changed in place goes through the same checks as a fresh prepare: a hard
    minimum on something that cannot exist is an error, not a row silently left out."""
    from lpkit import make_instance
    from rechain.model import InstanceError

    inst = make_instance(commodities=["good"], processes=["make", "idle"], io=[("make", "good", "out", 1), ("idle", "good", "out", 1)],
                         capacity=[("make", "r", 2021, 10)], demand=[("good", "r", 2021, 5)], years=(2021, 2021),
                         policies=[dict(policy="p", kind="min_activity", value=0, processes="idle")])
    pm = _map(inst)
    with pytest.raises(InstanceError, match="covers nothing"):
        pm.apply(inst.with_changes({"table": "policies", "column": "value", "set": 3}))
    with pytest.raises(InstanceError, match="covers nothing"):
        prepare(inst.with_changes({"table": "policies", "column": "value", "set": 3}))


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
        ({"table": "process_io", "where": {"process": "recycle_hc", "commodity": "prnd_oxide"}, "column": "coefficient", "scale": 1.2}, "mapped"),
        ({"table": "policies", "where": {"policy": "im_magnet_target"}, "column": "value", "scale": 0.8}, "mapped"),
        ({"table": "capacity", "column": "capacity", "scale": 1.1}, "mapped"),
        ({"table": "processes", "column": "capex", "scale": 1.3}, "mapped"),
        ({"table": "instance", "column": "discount_rate", "set": 0.04}, "mapped"),
        ({"table": "processes", "where": {"process": "magnet_sintering"}, "column": "lifetime", "set": 12}, "prepared"),
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
        # data is that of the changed instance
        assert m.data.params["residual"].sum() == pytest.approx(prepare(changed).params["residual"].sum())


def test_parameter_variable_and_row_names_are_distinct_and_pyomo_builds_quietly(caplog):
    """A parameter and a row family of the same name would make the Pyomo rendering replace one
    component by the other (Pyomo only logs it)."""
    import logging

    from rechain.model import families
    from rechain.model.formulation import build_model

    names = [p.name for p in families.PARAMS] + [v.name for v in families.VARS] + [r.name for r in families.ROWS]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, dupes
    inst = load_instance(ri.path())  # the default: stocks, demand curves, shares, regional costs
    with caplog.at_level(logging.WARNING, logger="pyomo"):
        build_model(inst)
    assert not [r for r in caplog.records if "Implicitly replacing" in r.getMessage()]
