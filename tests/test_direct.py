"""The direct path (LP arrays handed to HiGHS) solves the same LP as the Pyomo model: the
same optimum and the same duals on every shipped instance and on synthetic instances."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import rechain.instances as ri
from rechain.model import build_model, load_instance
from rechain.model.matrix import assemble, differences
from rechain.solvers import pyomo_highs
from rechain.solvers.direct import solve_direct
from rechain.solvers.solve import solve

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import generate  # noqa: E402


def _pyomo_result(inst):
    m = build_model(inst)
    r = solve(m)
    return m, r


def _compare(inst):
    m, rp = _pyomo_result(inst)
    rd = solve_direct(inst)
    assert rp.status == rd.status == "optimal", (rp.message, rd.message)
    assert math.isclose(rp.objective, rd.objective, rel_tol=1e-9)
    pp, pd_ = rp.prices, rd.prices
    assert list(pp.columns) == list(pd_.columns) and len(pp) == len(pd_) > 0
    assert (pp[["commodity", "region", "year"]].values == pd_[["commodity", "region", "year"]].values).all()
    np.testing.assert_allclose(pd_["price"], pp["price"], rtol=1e-6, atol=1e-6)
    qp, qd = rp.policies, rd.policies
    assert (qp[["policy", "year"]].values == qd[["policy", "year"]].values).all()
    np.testing.assert_allclose(qd["shadow_price"], qp["shadow_price"], rtol=1e-6, atol=1e-6)
    for name in ("capacity", "flows", "trade", "supply", "unmet", "costs"):
        a, b = getattr(rp, name), getattr(rd, name)
        assert list(a.columns) == list(b.columns) and len(a) == len(b), name
    return m, rp, rd


def _same_lp(m, inst):
    """The arrays equal, entry for entry, the LP Pyomo's persistent interface gave HiGHS reading
    the model row by row; a difference is named by its row and column. The model ``m`` (handed
    over as the arrays) gave HiGHS that LP too."""
    own = build_model(inst)
    pyomo_highs.read_by_pyomo(own)
    assert solve(own).ok and pyomo_highs.highs(own._rechain_highs) is not None
    assert own._rechain_highs.__dict__["_rechain_arrays"] is None  # read row by row indeed
    lp = pyomo_highs.highs(own._rechain_highs).getLp()
    mine = assemble(m._rechain_data)
    diff = differences(lp, mine, m._rechain_data)
    assert not diff, "the Pyomo model and the arrays differ:\n  " + "\n  ".join(diff)
    diff = differences(pyomo_highs.highs(m._rechain_highs).getLp(), mine, m._rechain_data)
    assert not diff, "the arrays handed over through Pyomo's interface differ:\n  " + "\n  ".join(diff)


@pytest.mark.parametrize("name", ri.names())
def test_shipped_instance_same_optimum_and_duals(name):
    inst = load_instance(ri.path(name))
    m, _, _ = _compare(inst)
    _same_lp(m, inst)


@pytest.mark.parametrize("name", ri.names())
def test_shipped_scenarios_same_optimum(name):
    inst = load_instance(ri.path(name))
    for scen in list(inst.scenarios)[:2]:
        _compare(inst.with_scenario(scen))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    return {s: generate(s, root / s) for s in ("S", "M")}


def test_synthetic_S_same_lp_optimum_and_duals(synthetic):
    inst = load_instance(synthetic["S"])
    m, rp, _ = _compare(inst)
    _same_lp(m, inst)
    # the instance exercises what it claims to: co-products, trade, soft and hard policies, recycling
    assert (rp.trade["quantity"] > 0).any()
    assert len(rp.policies) > 0 and (rp.policies["shadow_price"] != 0).any()
    assert (rp.flows.query("process.str.startswith('recycle')", engine="python")["quantity"] > 0).any()


def test_synthetic_M_same_optimum_and_duals(synthetic):
    inst = load_instance(synthetic["M"])
    lp = assemble(__import__("rechain.model", fromlist=["prepare"]).prepare(inst))
    assert 5e4 <= lp.num_nz <= 2e5  # size M is ~1e5 nonzeros
    _compare(inst)


def test_direct_statuses():
    inst = load_instance(ri.path("toy"))
    # at most 10 of magnet capacity in the south, but a hard target of 32: no plan meets it
    bad = inst.with_changes([{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_total", "set": 10}])
    r = solve_direct(bad)
    assert r.status == "infeasible" and r.objective is None
    assert solve(bad).status == "infeasible"


def test_result_tables_name_columns_share_one_dtype_and_columns_make_the_tables():
    """Every name column of every result table has pandas' own string dtype (what pandas gives
    a column of text it reads or builds), whichever way the model data held it; and
    ``solve_columns`` + ``layout.frames`` give the very tables ``solve`` gives."""
    import pandas as pd

    from rechain.model.results import TABLE_COLUMNS, VALUE_COLUMNS
    from rechain.solvers.direct import DirectModel

    inst = load_instance(ri.path("toy"))
    res = solve_direct(inst)
    text = pd.Series(["a", "b"]).dtype
    seen = 0
    for name, cols in TABLE_COLUMNS.items():
        t = getattr(res, name)
        for c in cols:
            if c in VALUE_COLUMNS[name]:
                assert t[c].dtype == np.float64, (name, c)
            elif c in ("year", "step"):
                assert t[c].dtype == np.int64, (name, c)
            else:
                assert t[c].dtype == text, (name, c, t[c].dtype)
                seen += 1
    assert seen >= 15
    m = DirectModel(inst)
    again, layout, columns = m.solve_columns()
    assert again.tables == {} and set(columns) == set(TABLE_COLUMNS)
    for name, t in layout.frames(columns).items():
        pd.testing.assert_frame_equal(t, getattr(res, name), check_exact=True, obj=name)


@pytest.mark.parametrize("seed", [1, 2, 3, 5])
def test_every_kind_of_family_same_lp_in_both_renderings(seed, tmp_path):
    """Generated instances with every policy kind (shares too: a process in both lists makes
    one entry of two terms): the Pyomo model hands HiGHS the arrays, entry for entry."""
    from instance_gen import write_instance

    inst = load_instance(write_instance(tmp_path / "gen", seed, every_kind=True))
    m = build_model(inst)
    r = solve(m)
    assert r.status == "optimal", r.message
    _same_lp(m, inst)
    assert math.isclose(r.objective, solve_direct(inst).objective, rel_tol=1e-9)


def test_a_difference_between_renderings_is_named_by_row_and_column():
    inst = load_instance(ri.path("toy"))
    m = build_model(inst)
    pyomo_highs.read_by_pyomo(m)
    solve(m)
    lp = pyomo_highs.highs(m._rechain_highs).getLp()
    mine = assemble(m._rechain_data)
    k = int(np.flatnonzero(mine.matrix.data != 0)[3])
    mine.matrix.data[k] *= -1
    diff = differences(lp, mine, m._rechain_data)
    assert len(diff) == 1 and diff[0].startswith("coefficient of ") and "[" in diff[0] and " in " in diff[0], diff
