"""The pre-solve numerics report (rechain.model.numerics): ranges, and warnings that name rows."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from pyomo.repn.standard_repn import generate_standard_repn

from instance_gen import write_instance
from rechain import instances
from rechain.model import build_model, load_instance, prepare
from rechain.model.numerics import report


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def pyomo_sizes(m):
    """Rows, columns, non-zeros and |coefficient| range of the LP the solver gets (a policy
    with no terms that holds anyway is a trivial Pyomo constraint, not a row)."""
    rows, nnz, coefs = 0, 0, []
    for c in m.component_data_objects(pyo.Constraint, active=True):
        repn = generate_standard_repn(c.body)
        rows += bool(repn.linear_vars)
        nnz += len(repn.linear_vars)
        coefs += [abs(pyo.value(a)) for a in repn.linear_coefs if pyo.value(a) != 0]
    return rows, m.nvariables(), nnz, min(coefs), max(coefs)


def test_toy_is_clean_and_its_ranges_are_the_models(toy):
    r = report(toy)
    assert r.ok and r.warnings == []
    m = build_model(toy)
    rows, cols, nnz, lo, hi = pyomo_sizes(m)
    assert (r.rows, r.columns, r.nonzeros) == (rows, cols, nnz)
    assert r.ranges["matrix"].min == pytest.approx(lo) and r.ranges["matrix"].max == pytest.approx(hi)
    assert (r.ranges["matrix"].min, r.ranges["matrix"].max) == (0.1, 2.0)  # swarf per magnet; magnet per vehicle
    assert r.ranges["matrix"].min_at.startswith("balance[swarf,south,")
    # the bound and rhs figures: demand 10..20 as unmet bounds; rhs from residual 5 to 100
    assert r.ranges["rhs"].max == 100.0 and r.ranges["rhs"].min == 5.0
    assert str(r).startswith(f"LP: {rows} rows, {cols} columns, {nnz} non-zeros")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sizes_match_the_built_model_on_random_instances(seed, tmp_path):
    inst = load_instance(write_instance(tmp_path / "gen", seed))
    m = build_model(inst)
    r = report(inst)
    rows, cols, nnz, lo, hi = pyomo_sizes(m)
    assert (r.rows, r.columns, r.nonzeros) == (rows, cols, nnz)
    assert r.ranges["matrix"].min == pytest.approx(lo) and r.ranges["matrix"].max == pytest.approx(hi)
    # the same report from the model data or the built model
    assert str(report(prepare(inst))) == str(r) == str(report(m))


def test_tiny_coefficient_in_its_row_is_named(toy):
    inst = toy.with_changes({"table": "process_io", "where": {"process": "recycling", "commodity": "prnd_oxide"}, "column": "coefficient", "set": 1e-10})
    r = report(inst)
    assert not r.ok
    row_warn = [w for w in r.warnings if "of the largest in their row" in w]
    assert row_warn and "balance[prnd_oxide,south,2021]" in row_warn[0] and "act[recycling,south,2021]" in row_warn[0]
    # and the matrix range: 2 / 1e-10
    assert any("matrix coefficients span" in w and "balance[prnd_oxide,south," in w for w in r.warnings)


def test_tiny_availability_names_the_use_rows(toy):
    inst = toy.with_changes({"table": "processes", "where": {"process": "mine"}, "column": "availability", "set": 1e-10})
    r = report(inst)
    w = [w for w in r.warnings if "of the largest in their row" in w]
    assert w and "use[mine,north,2021]" in w[0] and "cap[mine,north,2021]" in w[0]


def test_wide_matrix_range_without_a_bad_row(toy):
    inst = toy.with_changes([
        {"table": "process_io", "where": {"process": "separation", "commodity": "prnd_oxide"}, "column": "coefficient", "set": 1e-5},
        {"table": "process_io", "where": {"process": "ev_assembly", "commodity": "magnet"}, "column": "coefficient", "set": 1e5},
    ])
    r = report(inst)
    assert r.ranges["matrix"].ratio == pytest.approx(1e10)
    assert len(r.warnings) == 1  # no row holds both ends
    w = r.warnings[0]
    assert "span 1e+10" in w and "balance[prnd_oxide,north,2021]" in w and "balance[magnet,south,2021]" in w


def test_just_inside_the_limits_is_quiet(toy):
    inst = toy.with_changes([
        {"table": "process_io", "where": {"process": "separation", "commodity": "prnd_oxide"}, "column": "coefficient", "set": 1e-4},
        {"table": "process_io", "where": {"process": "ev_assembly", "commodity": "magnet"}, "column": "coefficient", "set": 1e4},
    ])
    assert report(inst).ok


def test_huge_money_figure_is_named(toy):
    inst = toy.with_changes({"table": "processes", "where": {"process": "magnet_making"}, "column": "capex", "set": 1e19})
    r = report(inst)
    assert any("objective figures above" in w and "new[magnet_making,south," in w for w in r.warnings)
    assert any("objective figures span" in w for w in r.warnings)


def test_wide_rhs_range_is_named(toy):
    inst = toy.with_changes({"table": "demand", "where": {"commodity": "ev", "year": 2023}, "column": "quantity", "set": 1e12})
    r = report(inst)
    assert any("rhs figures span" in w and "balance[ev,south,2023]" in w for w in r.warnings)


def test_report_from_the_assembled_lp_and_on_the_direct_path(toy):
    """Given the assembled LP (as the direct path does) the report is the same; its warnings
    reach the direct path's result."""
    from rechain.model.matrix import assemble
    from rechain.solvers.direct import solve_direct

    inst = toy.with_changes({"table": "process_io", "where": {"process": "recycling", "commodity": "prnd_oxide"}, "column": "coefficient", "set": 1e-10})
    d = prepare(inst)
    r = report(d, lp=assemble(d))
    assert str(r) == str(report(d)) and not r.ok
    res = solve_direct(inst)
    assert all(w in res.warnings for w in r.warnings)
