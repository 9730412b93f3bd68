"""Infeasibility explanations on planted infeasibilities of the toy instance.

Each test plants one infeasibility whose minimal fix is known by hand, checks that the elastic
re-solve names it with the right number, and that applying the named relaxation (and not less
of it) makes the instance feasible.
"""

import pandas as pd
import pytest

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.explain import Explanation, elastic, explain


@pytest.fixture(scope="module")
def toy():
    return load_instance(shipped.path("toy"))


def _add_policy(inst, **row):
    inst = inst.copy()
    pol = inst.tables["policies"]
    base = dict(policy=None, kind=None, year=None, value=None, processes=None, commodities=None, regions=None,
                destinations=None, penalty=float("nan"), source="toy")
    base.update(row)
    new = pd.DataFrame([base], index=[int(pol.index.max()) + 1])
    new["year"] = new["year"].astype("Int64")
    inst.tables["policies"] = pd.concat([pol, new.reindex(columns=pol.columns)])
    return inst


def test_min_policy_above_build_limit(toy):
    # the south must have 32 t/y of magnet capacity in 2023, but at most 25 may stand there:
    # relaxing the target by 7 (7/32 of it) is cheaper in relative terms than the limit (7/25)
    inst = toy.with_changes([{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_total", "set": 25}])
    assert solve(inst).status == "infeasible"
    ex = explain(inst)
    assert ex.status == "optimal"
    assert len(ex.relaxations) == 1
    r = ex.relaxations[0]
    assert (r.family, r.key, r.direction) == ("policy", ("south_magnet_target", 2023), "less")
    assert r.amount == pytest.approx(7.0, abs=1e-6)
    assert "policy `south_magnet_target` 2023" in r.text and "must ask for 7 less" in r.text and "at most 25" in r.text
    # the HiGHS IIS holds exactly the two conflicting rows
    assert ex.iis is not None
    rows = [s for s in ex.iis if not s.startswith("and ")]
    assert sorted(rows) == ["build_total_limit[magnet_making,south,2023] (≤ 25)", "policy[south_magnet_target,2023] (≥ 32)"]
    # the relaxation fixes it; 0.5 less of it does not
    ok = inst.with_changes([{"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 32 - 7}])
    assert solve(ok).status == "optimal"
    short = inst.with_changes([{"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 32 - 6.5}])
    assert solve(short).status == "infeasible"


def test_existing_capacity_above_max_total(toy):
    # 60 t/y of mining capacity stands in the north, but a build-limit row caps it at 50:
    # each year the limit must allow 10 more (the hard policies are not involved)
    inst = toy.copy()
    bl = inst.tables["build_limits"]
    row = pd.DataFrame([dict(process="mine", region="north", year=None, max_new=None, max_total=50.0, source="toy")], index=[99])
    row["year"] = row["year"].astype("Int64")
    inst.tables["build_limits"] = pd.concat([bl, row[bl.columns]])
    assert solve(inst).status == "infeasible"
    ex = elastic(inst)
    got = sorted((r.family, r.key, round(r.amount, 6)) for r in ex.relaxations)
    assert got == [("build_total_limit", ("mine", "north", y), 10.0) for y in (2021, 2022, 2023)]
    assert all("total `mine` capacity in `north`" in r.text and "max_total 50" in r.text and "at least 60" in r.text for r in ex.relaxations)


def test_supply_too_low_for_hard_activity_floor(toy):
    # separation (60 t/y of capacity) must process 59 t of ore in 2022; the mine may run 55
    # (mining_quota) and outside ore is capped at 1, so 3 t are missing. Relative costs of the
    # fixes: the floor 3/59, the quota 3/55, the supply cap 3/1: the floor is named.
    # (PrNd oxide may be disposed of here, so its use downstream does not limit separation.)
    inst = toy.with_changes([{"table": "commodities", "where": {"commodity": "prnd_oxide"}, "column": "disposal_cost", "set": 0.1}])
    inst = _add_policy(inst, policy="separation_floor", kind="min_activity", year=2022, value=59.0, processes="separation", regions="north")
    inst = inst.copy()
    inst.tables["supply"] = pd.DataFrame(
        [dict(commodity="ore", region="north", year=None, max_quantity=1.0, price=50.0, source="toy")], index=[2]
    ).astype({"year": "Int64"})
    assert solve(inst).status == "infeasible"
    ex = elastic(inst)
    assert [(r.family, r.key) for r in ex.relaxations] == [("policy", ("separation_floor", 2022))]
    assert ex.relaxations[0].amount == pytest.approx(3.0, abs=1e-6)
    fixed = inst.with_changes([{"table": "policies", "where": {"policy": "separation_floor"}, "column": "value", "set": 56}])
    assert solve(fixed).status == "optimal"
    # raising the outside-supply cap by the same 3 t fixes it too (a costlier fix, relatively)
    more = inst.with_changes([{"table": "supply", "where": {"commodity": "ore"}, "column": "max_quantity", "set": 4}])
    assert solve(more).status == "optimal"
    less = inst.with_changes([{"table": "supply", "where": {"commodity": "ore"}, "column": "max_quantity", "set": 3.5}])
    assert solve(less).status == "infeasible"
    assert ex.relaxations[0].text == "policy `separation_floor` 2022 (min_activity, value 59) must ask for 3 less (at most 56)"


def test_magnets_nowhere_to_go(toy):
    # a floor of 60 t of magnets in 2022: the EV plant uses at most 2 t per thousand vehicles
    # for 12 thousand vehicles (24 t), magnets have no disposal, so 36 t too many; the elastic
    # copy relaxes the floor, not the magnet balance (balance slacks cost 100x more)
    inst = _add_policy(toy, policy="magnet_floor", kind="min_activity", year=2022, value=60.0, processes="magnet_making", regions="south")
    assert solve(inst).status == "infeasible"
    ex = explain(inst)
    assert [(r.family, r.key) for r in ex.relaxations] == [("policy", ("magnet_floor", 2022))]
    assert ex.relaxations[0].amount == pytest.approx(36.0, abs=1e-6)
    assert any(s.startswith("policy[magnet_floor,2022]") for s in ex.iis)
    assert any(s.startswith("balance[magnet,south,2022]") for s in ex.iis)
    text = str(ex)
    assert "must ask for 36 less" in text and "irreducible infeasible subset" in text


def test_feasible_instance_needs_no_relaxation(toy):
    ex = elastic(toy)
    assert isinstance(ex, Explanation) and ex.status == "optimal"
    assert ex.relaxations == [] and ex.total == pytest.approx(0.0, abs=1e-9)
