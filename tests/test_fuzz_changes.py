"""Hostile changes (scenarios, `with_changes`, `--set`/`--scale` text): every one ends in a
changed instance or a located error, and every changed instance gives the same answer solved in
place on the base model as solved afresh. ``benchmarks/fuzz.py --changes 10000`` runs the long
version."""

import random

import pytest

from fuzz_changes import change_case, cli_case, judge_change, judge_cli
from instance_gen import write_instance
from rechain.model import load_instance
from rechain.solvers.direct import DirectModel, solve_direct


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_hostile_changes_end_cleanly_and_in_place_equals_fresh(seed, tmp_path):
    inst = load_instance(write_instance(tmp_path / "gen", seed, every_kind=True))
    model = DirectModel(inst)
    rng = random.Random(seed)
    outcomes = []
    for _ in range(40):
        if getattr(model, "broken", False):
            model = DirectModel(inst)
        ch = change_case(rng, inst)
        out, detail = judge_change(inst, model, ch, solve_direct)
        assert out not in ("unclean", "wrong"), f"{ch!r}: {out}: {detail}"
        outcomes.append(out)
    assert "applied" in outcomes and "refused" in outcomes  # the draw reaches both ends


@pytest.mark.parametrize("seed", [0, 1])
def test_hostile_command_line_values_end_cleanly(seed, tmp_path):
    inst = load_instance(write_instance(tmp_path / "gen", seed, every_kind=True))
    rng = random.Random(seed)
    for _ in range(40):
        kind, text = cli_case(rng)
        out, detail = judge_cli(inst, kind, text)
        assert out != "unclean", f"--{kind} {text!r}: {detail}"


def test_the_judge_catches_a_stale_in_place_answer(tmp_path):
    # a model whose update is silently skipped answers with the base optimum: the judge must say so
    inst = load_instance(write_instance(tmp_path / "gen", 0, every_kind=True))
    model = DirectModel(inst)
    model.update = lambda new: model  # a broken update: nothing reaches HiGHS
    ch = {"table": "demand", "where": {}, "column": "quantity", "scale": 1.5}
    out, detail = judge_change(inst, model, ch, solve_direct)
    assert out == "wrong", (out, detail)


def test_figures_beyond_1e15_are_warned_about_on_both_routes(tmp_path):
    inst = load_instance(write_instance(tmp_path / "gen", 0, every_kind=True))
    new = inst.with_changes([{"table": "trade", "where": {}, "column": "cost", "set": 1e16}])
    assert any("above 1e+15" in w.message for w in new.warnings)
    r = solve_direct(new)
    assert any("above 1e+15" in w for w in r.warnings)
