"""Sweeps: the same answers as solving each scenario from scratch, in scenario order whatever
the workers and backend; failures reported, not fatal; the built model is re-solved in place."""

import math

import pandas as pd
import pytest

from rechain import instances
from rechain.model import load_instance
from rechain.model.scenarios import Scenario, grid, sample, scale, setter, uniform
from rechain.solvers import solve, sweep

EV = {"commodity": "ev"}


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def scenarios():
    ev = scale("demand", "quantity", EV)
    quota = setter("policies", "value", {"policy": "mining_quota"})
    runs = grid(ev=(ev, [0.8, 1.0, 1.3]), target=[None, "no_target"], quota=(quota, [50, 70]))
    runs.append(Scenario("bad", [{"table": "demand", "where": {"commodity": "unobtainium"}, "column": "quantity", "scale": 2}]))
    # a finite max_new where the limit was blank adds a row: the model is rebuilt for it
    runs.append(Scenario("limited", [{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 6}]))
    # no way to meet the hard target: infeasible, reported as such
    runs.append(Scenario("stuck", [{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 1}]))
    return runs


@pytest.fixture(scope="module")
def local1(toy, scenarios):
    return sweep(toy, scenarios, workers=1, progress=False, chunk_size=5)


def test_sweep_objectives_equal_solves_from_scratch(toy, scenarios, local1):
    s = local1.summary
    assert s["scenario"].tolist() == [x.label for x in scenarios]
    for sc, row in zip(scenarios, s.itertuples()):
        if sc.label == "bad":
            continue
        fresh = solve(sc.apply(toy))
        assert row.status == fresh.status
        if fresh.ok:
            assert math.isclose(row.objective, fresh.objective, rel_tol=1e-7), sc.label
    # the scenarios really differ, so equality above is not vacuous
    assert s.loc[s["status"] == "optimal", "objective"].round(6).nunique() >= 8


def test_failures_are_rows_not_crashes(local1):
    s = local1.summary.set_index("scenario")
    assert s.loc["bad", "status"] == "error" and "no row of 'demand'" in s.loc["bad", "message"]
    assert math.isnan(s.loc["bad", "objective"])
    assert s.loc["stuck", "status"] == "infeasible" and "infeasible" in s.loc["stuck", "message"]
    assert not local1.ok
    assert "bad" not in set(local1.capacity["scenario"]) and "stuck" not in set(local1.capacity["scenario"])


def test_same_model_resolved_in_place_and_rebuilt_only_when_sparsity_differs(local1):
    s = local1.summary.set_index("scenario")
    assert bool(s.loc["limited", "rebuilt"]) and s.loc["limited", "status"] == "optimal"
    others = s.drop(index=["limited", "stuck", "bad"])
    assert bool(s.loc["stuck", "rebuilt"])
    assert not others["rebuilt"].any()
    assert others["worker"].nunique() == 1


def test_tables_carry_the_scenario_column_in_scenario_order(toy, scenarios, local1):
    ok = local1.summary.loc[local1.summary["status"] == "optimal", "scenario"].tolist()
    for name in ("capacity", "prices", "policies", "costs", "flows"):
        t = local1.tables[name]
        assert t.columns[0] == "scenario"
        assert list(dict.fromkeys(t["scenario"])) == ok
    # each scenario's slice is that scenario's own result table
    sc = scenarios[5]
    fresh = solve(sc.apply(toy))
    mine = local1.capacity[local1.capacity["scenario"] == sc.label].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, fresh.capacity, atol=1e-6, check_exact=False)
    wp = local1.with_parameters("prices")
    assert set(wp.loc[wp["scenario"] == sc.label, "ev"]) == {sc.params["ev"]}


def test_process_pool_gives_the_same_tables_as_one_worker(toy, scenarios, local1):
    two = sweep(toy, scenarios, workers=2, progress=True, chunk_size=5)
    pd.testing.assert_frame_equal(two.summary[["scenario", "status", "objective", "rebuilt"]],
                                  local1.summary[["scenario", "status", "objective", "rebuilt"]])
    for name in local1.tables:
        pd.testing.assert_frame_equal(two.tables[name], local1.tables[name])
    assert two.summary["worker"].str.split(":").str[0].nunique() == 2


def test_dask_backend_gives_the_same_tables_as_local(toy, scenarios, local1):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = sweep(toy, scenarios, backend="dask", scheduler=client, progress=False, chunk_size=5)
    pd.testing.assert_frame_equal(got.summary[["scenario", "status", "objective", "rebuilt"]],
                                  local1.summary[["scenario", "status", "objective", "rebuilt"]])
    for name in local1.tables:
        pd.testing.assert_frame_equal(got.tables[name], local1.tables[name])


def test_streaming_callback_and_selected_tables(toy):
    runs = sample(4, seed=3, ev=(scale("demand", "quantity", EV), uniform(0.9, 1.1)))
    seen = []
    r = sweep(toy, runs, tables=["capacity"], progress=False, on_result=seen.append)
    assert sorted(x["scenario"] for x in seen) == [s.label for s in runs]
    assert set(r.tables) == {"capacity"}
    assert r.ok and list(r.parameters.columns) == ["scenario", "ev"]


def test_bad_arguments(toy, tmp_path):
    with pytest.raises(ValueError, match="unique"):
        sweep(toy, ["ev_boom", "ev_boom"], progress=False)
    with pytest.raises(ValueError, match="unknown result table"):
        sweep(toy, [None], tables=["nope"], progress=False)
    with pytest.raises(ValueError, match="backend"):
        sweep(toy, [None], backend="spark", progress=False)
    # a path works as the instance, and the result writes out
    r = sweep(instances.path("toy"), [None, "ev_boom"], progress=False)
    assert r.summary["status"].tolist() == ["optimal", "optimal"]
    out = r.to_folder(tmp_path / "sweep")
    back = pd.read_csv(out / "summary.csv")
    assert back["scenario"].tolist() == ["base", "ev_boom"]
    assert (out / "capacity.csv").exists() and (out / "parameters.csv").exists()


def _own_slice(table, label):
    return table[table["scenario"] == label].drop(columns="scenario").reset_index(drop=True)


def test_every_table_of_every_scenario_is_that_scenarios_own_result(toy, scenarios, local1):
    """The tables are sent as numbers with the key columns once per model shape; put back
    together they are, scenario by scenario, the scenario's own result tables (same keys,
    column types and numbers), also for a scenario that needed a model of its own
    ("limited")."""
    ok = local1.summary.loc[local1.summary["status"] == "optimal", "scenario"].tolist()
    assert "limited" in ok
    checked = 0
    for sc in scenarios:
        if sc.label not in ok:
            continue
        fresh = solve(sc.apply(toy))
        for name in local1.tables:
            mine = _own_slice(local1.tables[name], sc.label)
            pd.testing.assert_frame_equal(mine, getattr(fresh, name), atol=1e-6, rtol=1e-7, check_exact=False,
                                          obj=f"{sc.label}: {name}")
            checked += 1
    assert checked == len(ok) * len(local1.tables) >= 100


def test_a_chunk_sends_its_keys_once_per_model_shape(toy, scenarios):
    import importlib

    sw = importlib.import_module("rechain.solvers.sweep")  # the module (the package exports the function)
    by_label = {s.label: s for s in scenarios}
    order = [scenarios[0], scenarios[1], by_label["limited"], scenarios[2], scenarios[3]]
    pack = sw._Runner(toy, ["capacity", "prices"], {}).run_chunk(list(enumerate(order)))
    segs = pack["segments"]
    # the kept model, the model of "limited", the kept model again
    assert [seg["labels"] for seg in segs] == [[order[0].label, order[1].label], ["limited"], [order[3].label, order[4].label]]
    for seg in segs:
        for name in ("capacity", "prices"):
            rows = len(seg["keys"][name])
            assert rows > 0
            for c, v in seg["values"][name].items():
                assert v.shape == (rows * len(seg["labels"]),), (name, c)
    assert segs[0]["keys"]["capacity"] is segs[2]["keys"]["capacity"]  # one layout, its keys shared


def test_another_solver_path_gives_the_same_tables(toy, scenarios, local1):
    """With the Pyomo model (``method="pyomo"``) a worker sends whole Result tables; they are
    split and put together the same way."""
    labels = [s.label for s in scenarios[:3]]
    got = sweep(toy, scenarios[:3], progress=False, method="pyomo")
    assert got.ok
    for name in local1.tables:
        want = local1.tables[name][local1.tables[name]["scenario"].isin(labels)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got.tables[name], want, atol=1e-6, rtol=1e-7, check_exact=False, obj=name)


def test_what_a_scenario_starts_from_depends_on_its_chunk_alone(toy, scenarios):
    """A worker whose first model has another shape, or that ran other chunks before, solves a
    chunk exactly as a fresh worker does: the same simplex iterations, objectives and tables,
    also when shapes alternate within the chunk."""
    import importlib

    sw = importlib.import_module("rechain.solvers.sweep")
    by_label = {s.label: s for s in scenarios}
    chunk = list(enumerate([scenarios[0], by_label["limited"], scenarios[1], scenarios[2], by_label["limited"], scenarios[7]]))
    fresh = sw._Runner(toy, ["capacity", "prices"], {})
    want = fresh.run_chunk(chunk)
    used = sw._Runner(toy, ["capacity", "prices"], {})
    used.run_chunk([(0, by_label["limited"])])  # its first model has the other shape
    used.run_chunk(list(enumerate(scenarios[3:6])))
    got = used.run_chunk(chunk)
    cols = ["scenario", "status", "objective", "rebuilt", "iterations"]
    assert [{k: r[k] for k in cols} for r in got["records"]] == [{k: r[k] for k in cols} for r in want["records"]]
    assert sum(r["iterations"] for r in want["records"]) > 0
    for a, b in zip(got["segments"], want["segments"]):
        assert a["labels"] == b["labels"]
        for name in ("capacity", "prices"):
            for c, v in a["values"][name].items():
                assert (v == b["values"][name][c]).all(), (name, c)
