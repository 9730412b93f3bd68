"""Faults: a time limit, a failing solver, an interrupted or failing write of results.

Results are written with :meth:`Result.to_folder`, which fills a temporary sibling folder and
renames it into place. Whatever happens mid-write — SIGINT, SIGTERM, a full disk — the previous
results folder must stay byte for byte as it was, and no partial folder may stay behind.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from instance_gen import write_instance
from rechain import instances
from rechain.model import build_model, load_instance
from rechain.solvers import solve


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


# -- time limit ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    # 8 regions x 8 years: HiGHS needs far longer than a millisecond
    return load_instance(write_instance(tmp_path_factory.mktemp("big") / "big", 5, regions=8, years=8))


def test_time_limit_gives_status_time_limit_and_a_clear_message_direct(big):
    r = solve(big, time_limit=1e-3)  # an Instance with HiGHS: the direct path
    assert r.status == "time_limit" and not r.ok
    assert "time" in r.message and "limit" in r.message and "0.001" in r.message
    assert r.objective is None and r.tables == {}


def test_time_limit_gives_status_time_limit_and_a_clear_message_pyomo(big):
    inst = big
    m = build_model(inst)
    r = solve(m, time_limit=1e-3)
    assert r.status == "time_limit" and not r.ok
    assert "time" in r.message and "limit" in r.message and "0.001" in r.message
    assert r.objective is None and r.tables == {}
    # the stopped persistent model can be solved on, given time (note: with time_limit=None the
    # persistent HiGHS keeps the old 1e-3 s limit — reported; hence an explicit limit here)
    again = solve(m, time_limit=1e6)
    assert again.status == "optimal", again.message
    assert again.objective == pytest.approx(solve(inst).objective, rel=1e-9)


# -- solver failure -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["direct", "pyomo"])
def test_a_crashing_solver_gives_status_error_and_its_message(toy, monkeypatch, method):
    import highspy

    def crash(self, *a, **k):
        raise RuntimeError("simulated solver crash")

    monkeypatch.setattr(highspy.Highs, "run", crash)
    r = solve(toy, method=method)
    assert r.status == "error" and not r.ok
    assert "simulated solver crash" in r.message
    assert r.objective is None


@pytest.mark.parametrize("method", ["direct", "pyomo"])
def test_an_invalid_option_value_gives_status_error_and_a_message(toy, method):
    r = solve(toy, time_limit=-1, method=method)
    assert r.status == "error"
    assert "time_limit" in r.message


@pytest.mark.parametrize("method", ["direct", "pyomo"])
def test_an_unknown_option_gives_status_error(toy, method):
    r = solve(toy, no_such_option=1, method=method)
    assert r.status == "error" and "no_such_option" in r.message


def test_a_time_limit_does_not_stick_to_a_built_model(toy):
    from rechain.model import build_model

    m = build_model(toy)
    assert solve(m, time_limit=0.0).status == "time_limit"
    assert solve(m).status == "optimal"


def test_an_error_result_writes_a_summary_with_its_message(toy, monkeypatch, tmp_path):
    import highspy

    monkeypatch.setattr(highspy.Highs, "run", lambda self, *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    r = solve(toy)
    r.to_folder(tmp_path / "out")
    import json

    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["status"] == "error" and "boom" in s["message"]


# -- interrupted writes -------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from rechain import instances
    from rechain.model import load_instance
    from rechain.solvers import solve

    out = sys.argv[1]
    r = solve(load_instance(instances.path("toy")).with_scenario("ev_boom"))
    write = pd.DataFrame.to_csv

    def slow(self, *a, **k):  # a slow disk: each table takes a while
        write(self, *a, **k)
        print("wrote", flush=True)
        time.sleep(0.3)

    pd.DataFrame.to_csv = slow
    while True:
        r.to_folder(out, overwrite=True)
    """
)


def _leftovers(parent: Path, keep: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name != keep)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_mid_write_leaves_previous_results_whole(toy, tmp_path, sig):
    parent = tmp_path / "runs"
    out = parent / "results"
    solve(toy).to_folder(out)
    before = snapshot(out)
    # the child keeps Python's default signal handling: SIGINT raises KeyboardInterrupt, and
    # SIGTERM (whose default kills without clean-up) is caught by atomic_write_folder itself
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        n = 0
        deadline = time.monotonic() + 60
        while n < 3 and time.monotonic() < deadline:  # three tables into the temporary folder
            line = child.stdout.readline()
            assert line, child.stderr.read()
            n += line.strip() == "wrote"
        assert n == 3
        tmp = [p for p in parent.iterdir() if p.name.startswith(".results.tmp")]
        assert tmp, "the child writes into a temporary sibling folder"
        child.send_signal(sig)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0
    assert snapshot(out) == before
    assert _leftovers(parent, "results") == []


def test_sigkill_mid_write_leaves_previous_results_whole(toy, tmp_path):
    """Even with no chance to clean up, the previous folder is intact (only a hidden temporary
    sibling ``.results.tmp-*`` can remain, never a partial ``results``)."""
    parent = tmp_path / "runs"
    out = parent / "results"
    solve(toy).to_folder(out)
    before = snapshot(out)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(2):
            assert child.stdout.readline().strip() == "wrote"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert snapshot(out) == before
    assert all(name.startswith(".results.tmp-") for name in _leftovers(parent, "results"))


@pytest.mark.parametrize("after", [0, 3, 9, 10])
def test_full_disk_part_way_leaves_previous_results_whole(toy, tmp_path, monkeypatch, after):
    parent = tmp_path / "runs"
    out = parent / "results"
    solve(toy).to_folder(out)
    before = snapshot(out)
    new = solve(toy.with_scenario("ev_boom"))
    write = pd.DataFrame.to_csv
    count = {"n": 0}

    def full(self, *a, **k):
        if count["n"] >= after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        count["n"] += 1
        return write(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    if after >= 10:  # every table written; the disk fills on summary.json
        import json

        monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError) as e:
        new.to_folder(out)
    assert e.value.errno == errno.ENOSPC
    assert snapshot(out) == before
    assert _leftovers(parent, "results") == []
    # and a later write that succeeds replaces the folder whole
    monkeypatch.undo()
    new.to_folder(out)
    assert snapshot(out) != before
    assert _leftovers(parent, "results") == []


def test_first_write_that_fails_leaves_nothing(toy, tmp_path, monkeypatch):
    out = tmp_path / "results"
    r = solve(toy)
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(OSError):
        r.to_folder(out)
    assert list(tmp_path.iterdir()) == []
