"""Sweeps under worker faults, and sweep options checked before any worker starts.

A worker is made to fail by a scenario of its own (:class:`Faulty`): the first time a worker
applies it — a marker file it creates says it has been done — the worker process exits at once
(``os._exit``, as a process killed by the kernel would) or stops itself (SIGSTOP, a frozen
worker). Tried again, it is an ordinary scenario. With ``marker=""`` it fails every time.
"""

from __future__ import annotations

import importlib
import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rechain import instances
from rechain.model import load_instance
from rechain.model.scenarios import (Scenario, choice, lognormal, normal, sample, scale, setter, triangular,
                                     uniform)
from rechain.solvers import sweep
from rechain.solvers.cli import app
from rechain.solvers.sweep import SweepOptionError, default_chunk_timeout

sweep_module = importlib.import_module("rechain.solvers.sweep")

TOY = instances.path("toy")
EV = {"commodity": "ev"}


@dataclass(frozen=True, eq=True)
class Faulty(Scenario):
    """A scenario that kills (``fault="exit"``) or freezes (``"stop"``; ``"stop later"``: half
    a second later, once its chunk is done) the worker applying it, once (the first to create
    ``marker``) or, with no marker, every time."""

    marker: str = ""
    fault: str = "exit"

    __hash__ = None

    def apply(self, instance):
        if not self.marker or _first(self.marker):
            if self.fault == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            elif self.fault == "stop later":
                threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGSTOP)).start()
            else:
                os._exit(1)
        return super().apply(instance)


def _first(marker: str) -> bool:
    """True in the one process that creates ``marker`` (which holds its pid)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


@pytest.fixture(scope="module")
def toy():
    return load_instance(TOY)


@pytest.fixture(scope="module")
def runs():
    """12 scenarios of the toy; the faulty ones replace runs[k] with the same label and changes."""
    return sample(12, seed=5, ev=(scale("demand", "quantity", EV), uniform(0.8, 1.3)))


@pytest.fixture(scope="module")
def clean(toy, runs):
    """The sweep without faults, in this process, chunks of 3."""
    return sweep(toy, runs, workers=1, progress=False, chunk_size=3)


def faulty(runs, k, marker, fault="exit"):
    out = list(runs)
    out[k] = Faulty(runs[k].label, runs[k].changes, runs[k].params, marker=str(marker) if marker else "", fault=fault)
    return out


def assert_same_results(got, clean, labels=None):
    """The scenarios of ``labels`` (default all) have the tables and objectives of the clean sweep."""
    labels = list(clean.summary["scenario"]) if labels is None else labels
    cols = ["scenario", "status", "objective", "rebuilt"]
    a = got.summary[got.summary["scenario"].isin(labels)][cols].reset_index(drop=True)
    b = clean.summary[clean.summary["scenario"].isin(labels)][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    for name in clean.tables:
        pd.testing.assert_frame_equal(got.tables[name].reset_index(drop=True),
                                      clean.tables[name][clean.tables[name]["scenario"].isin(labels)].reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# Local process pool
# --------------------------------------------------------------------------------------------


def test_a_local_worker_killed_mid_sweep_loses_nothing(toy, runs, clean, tmp_path):
    marker = tmp_path / "died"
    got = sweep(toy, faulty(runs, 4, marker), workers=2, progress=False, chunk_size=3)
    assert marker.exists()  # a worker did die
    assert (got.summary["status"] == "optimal").all() and (got.summary["reason"] == "").all()
    assert got.timings["retried"] >= 1 and got.timings["lost"] == 0
    assert_same_results(got, clean)


def test_a_chunk_that_kills_its_worker_every_time_is_lost_and_the_rest_finish(toy, runs, clean):
    t0 = time.perf_counter()
    got = sweep(toy, faulty(runs, 4, None), workers=2, progress=False, chunk_size=3, retries=1)
    s = got.summary.set_index("scenario")
    lost = [r.label for r in runs[3:6]]  # the chunk of the faulty scenario
    assert list(s.index[s["status"] == "lost"]) == lost
    assert (s.loc[lost, "reason"] == "worker died").all() and s.loc[lost, "objective"].isna().all()
    assert "after 2 attempt(s)" in s.loc[lost[0], "message"] and "attempt 2:" in s.loc[lost[0], "message"]
    kept = [r.label for r in runs if r.label not in lost]
    assert (s.loc[kept, "status"] == "optimal").all()
    assert_same_results(got, clean, kept)
    assert not got.ok and got.timings["lost"] == 3
    assert time.perf_counter() - t0 < 30


def test_a_frozen_local_worker_is_timed_out_and_its_chunk_run_again(toy, runs, clean, tmp_path):
    marker = tmp_path / "frozen"
    t0 = time.perf_counter()
    # a chunk of three toy scenarios takes well under a second; 15 s leaves room for a busy machine
    got = sweep(toy, faulty(runs, 7, marker, "stop"), workers=2, progress=False, chunk_size=3, chunk_timeout=15)
    took = time.perf_counter() - t0
    pid = int(marker.read_text())
    assert not _alive(pid)  # the frozen process was killed, not left behind
    assert (got.summary["status"] == "optimal").all()
    assert got.timings["retried"] == 1 and took < 60
    assert_same_results(got, clean)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _state(pid) not in ("Z", None)  # a zombie (dead, not yet reaped) counts as dead


def _state(pid: int) -> str | None:
    """The state letter of process ``pid`` (R, S, T: stopped, Z: zombie…), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return None


def test_the_default_chunk_timeout_grows_with_the_chunk_and_the_time_limit():
    assert default_chunk_timeout(10) == 160
    assert default_chunk_timeout(100, time_limit=5) == 60 + 100 * 15


def test_lost_scenarios_exit_5_and_are_written_with_their_reason(tmp_path, monkeypatch):
    """The CLI: a chunk lost on every attempt gives exit code 5 and summary rows `lost`."""
    import rechain.solvers as solvers

    real = solvers.sweep

    def with_a_killer(inst, runs, **kw):
        runs = list(runs) + [Faulty("killer", (), {})]
        return real(inst, runs, **{**kw, "workers": 2, "chunk_size": 1, "retries": 1})

    monkeypatch.setattr(solvers, "sweep", with_a_killer)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["sweep", str(TOY), "--scenario", "ev_boom", "--out", str(out), "-q"])
    assert r.exit_code == 5, r.output
    assert "killer: lost (worker died)" in r.output and "Traceback" not in r.output
    s = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("scenario")
    assert s.loc["killer", "status"] == "lost" and s.loc["killer", "reason"] == "worker died"
    assert (s.loc[["base", "ev_boom"], "status"] == "optimal").all()


# --------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield client


def _built_models():
    """Run on a worker: how many runners (built models) of sweeps it keeps."""
    return len(importlib.import_module("rechain.solvers.sweep")._DASK_RUNNERS)


def test_a_dask_sweep_leaves_no_built_models_on_its_workers(toy, runs, clean, dask_client):
    got = sweep(toy, runs, backend="dask", scheduler=dask_client, progress=False, chunk_size=3)
    assert_same_results(got, clean)
    kept = dask_client.run(_built_models)
    assert len(kept) == 2 and set(kept.values()) == {0}


def test_dask_workers_killed_twice_lose_nothing(toy, runs, clean, tmp_path, dask_client):
    scens = faulty(faulty(runs, 2, tmp_path / "first"), 9, tmp_path / "second")
    got = sweep(toy, scens, backend="dask", scheduler=dask_client, progress=False, chunk_size=3)
    assert (tmp_path / "first").exists() and (tmp_path / "second").exists()
    assert (got.summary["status"] == "optimal").all()
    assert_same_results(got, clean)


def frozen_dask_sweep(toy, runs, marker, client, fault="stop"):
    """A Dask sweep in which the worker running scenario 5 freezes: ``(result, seconds, left)``,
    ``left`` whether the frozen process was still there when the sweep returned."""
    t0 = time.perf_counter()
    try:
        got = sweep(toy, faulty(runs, 5, marker, fault), backend="dask", scheduler=client,
                    progress=False, chunk_size=3, chunk_timeout=20)  # a worker's first chunk also imports rechain
        return got, time.perf_counter() - t0, _alive(int(marker.read_text()))
    finally:
        if marker.exists() and _alive(int(marker.read_text())):  # never leave a stopped process behind
            os.kill(int(marker.read_text()), signal.SIGKILL)


def test_a_frozen_dask_worker_is_timed_out_and_its_chunk_run_elsewhere(toy, runs, clean, tmp_path, dask_client):
    got, took, _ = frozen_dask_sweep(toy, runs, tmp_path / "frozen", dask_client)
    assert (got.summary["status"] == "optimal").all()
    assert got.timings["retried"] >= 1 and took < 100  # not the scheduler's 5 minutes to drop a silent worker
    assert_same_results(got, clean)


def test_a_frozen_dask_worker_that_outlives_its_kill_is_forgotten_at_once(toy, runs, clean, tmp_path, monkeypatch):
    """The frozen worker holds the only copy of the instance (the scheduler drops the copies an
    idle worker holds) and its nanny cannot kill it (or it has none): the chunk run again on a
    healthy worker does not wait for the scheduler's own timeout of a silent worker (minutes)
    to fetch the instance, which would time it out again and lose its scenarios."""
    distributed = pytest.importorskip("distributed")
    marker = tmp_path / "frozen"
    kill = sweep_module._dask_stop_worker

    def all_but_the_frozen_one(dask_worker=None):
        if dask_worker.process.process.pid == int(marker.read_text()):
            raise OSError("this nanny cannot kill its worker")
        return kill(dask_worker=dask_worker)

    monkeypatch.setattr(sweep_module, "_dask_stop_worker", all_but_the_frozen_one)
    # a cluster of its own: a worker left frozen is not the next test's
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        got, took, left = frozen_dask_sweep(toy, runs, marker, client)
    assert left  # the kill did fail
    assert (got.summary["status"] == "optimal").all()
    assert got.timings["retried"] >= 1 and took < 100
    assert_same_results(got, clean)


def test_a_dask_worker_frozen_before_its_result_is_fetched_is_timed_out(toy, runs, clean, tmp_path, dask_client,
                                                                         monkeypatch):
    """The worker freezes once its chunk is done, before the sweep fetched the chunk's result
    (here: every result is fetched only after the freeze): the fetch is bounded by the chunk
    timeout, the worker killed and the chunk run again, rather than the fetch tried again until
    the scheduler's own timeout of a silent worker (minutes)."""
    import distributed

    marker = tmp_path / "frozen"
    fetch = distributed.Future.result

    def after_the_freeze(self, *args, **kwargs):
        end = time.monotonic() + 10
        while marker.exists() and time.monotonic() < end:  # the worker has applied the scenario
            text = marker.read_text()
            if text and _state(int(text)) in ("T", "Z", None):  # stopped, or gone
                break
            time.sleep(0.05)
        return fetch(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Future, "result", after_the_freeze)
    got, took, left = frozen_dask_sweep(toy, runs, marker, dask_client, fault="stop later")
    assert not left  # killed through its nanny
    assert (got.summary["status"] == "optimal").all()
    assert got.timings["retried"] >= 1 and took < 100
    assert_same_results(got, clean)


# --------------------------------------------------------------------------------------------
# Options checked before any worker starts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, says", [
    (lambda: normal(1, -1), "sd must be ≥ 0"),
    (lambda: uniform(2, 1), "low must be ≤ high"),
    (lambda: choice([]), "at least one value"),
    (lambda: choice([1, 2], p=[0.5, 0.6]), "summing to 1"),
    (lambda: triangular(1, 3, 2), "low ≤ mode ≤ high"),
    (lambda: triangular(1, 1, 1), "low < high"),
    (lambda: lognormal(0, -0.5), "sigma must be ≥ 0"),
    (lambda: uniform(0, math.inf), "finite"),
    (lambda: uniform("a", 1), "must be a number"),
    (lambda: normal(1, 1, 2, 0), "clip bounds"),
    (lambda: sample(-5, ev=(scale("demand", "quantity"), uniform(1, 2))), "n ≥ 1"),
    (lambda: sample(0, ev=(scale("demand", "quantity"), uniform(1, 2))), "n ≥ 1"),
    (lambda: sample(3, ev=(scale("demand", "quantity"), ("normal", 1, -2))), "axis 'ev': normal"),
    (lambda: sample(3, ev=(setter("processes", "stage"), uniform(1, 2))), "not a numeric column"),
    (lambda: scale("demand", "quantityy"), "no column 'quantityy'"),
    (lambda: scale("demandd", "quantity"), "unknown table 'demandd'"),
    (lambda: scale("processes", "stage"), "cannot scale"),
    (lambda: setter("demand", "quantity", where={"comodity": "ev"}), "no column 'comodity' to select on"),
    (lambda: scale("instance", "discount_ratee"), "unknown setting"),
])
def test_bad_distributions_and_axes_are_refused_when_made(make, says):
    with pytest.raises(ValueError, match=says):
        make()


def test_good_distributions_and_axes_still_work():
    assert uniform(1, 1).args == (1.0, 1.0) and normal(1, 0).args == (1.0, 0.0)
    assert choice(["a", "b"], p=[0.25, 0.75]).args == (["a", "b"], [0.25, 0.75])
    assert scale("instance", "discount_rate")(2)["scale"] == 2
    assert setter("demand", "quantity", where={"note": "x"})(3)["set"] == 3  # a free column selects too


@pytest.fixture
def no_pool(monkeypatch):
    """Any worker started is a failure of the test."""
    def boom(*a, **k):
        raise AssertionError("a worker pool was started")
    monkeypatch.setattr(sweep_module, "ProcessPoolExecutor", boom)


@pytest.mark.parametrize("scenarios, kw, says", [
    ([None, "ev_boom"], {"workers": -3}, "workers is a whole number ≥ 1"),
    ([None, "ev_boom"], {"workers": 0}, "workers"),
    ([None, "ev_boom"], {"workers": 2, "chunk_size": 0}, "chunk_size"),
    ([None, "ev_boom"], {"workers": 2, "chunk_timeout": 0}, "chunk_timeout"),
    ([None, "ev_boom"], {"workers": 2, "chunk_timeout": math.nan}, "chunk_timeout"),
    ([None, "ev_boom"], {"workers": 2, "retries": -1}, "retries"),
    ([None, "nope"], {"workers": 2}, "no scenario named 'nope'"),
    ([None, {"table": "demand", "where": EV, "column": "quantityy", "scale": 2}], {"workers": 2}, "no column 'quantityy'"),
    ([None, {"table": "demand", "where": {"comodity": "ev"}, "column": "quantity", "scale": 2}], {"workers": 2},
     "'comodity' to select on"),
    ([None, {"table": "processes", "column": "stage", "scale": 2}], {"workers": 2}, "cannot scale"),
])
def test_bad_sweep_options_are_refused_before_any_worker_starts(toy, no_pool, scenarios, kw, says):
    with pytest.raises(SweepOptionError, match=says):
        sweep(toy, scenarios, progress=False, **kw)


@pytest.mark.parametrize("args, says", [
    (["--sample", "-5", "--vary", "demand.quantity*=uniform(1,2)"], "--sample"),
    (["--sample", "3", "--vary", "demand.quantity*=normal(1,-1)"], "sd must be ≥ 0"),
    (["--sample", "3", "--vary", "demand.quantity*=uniform(2,1)"], "low must be ≤ high"),
    (["--sample", "3", "--vary", "demand.quantity*=choice()"], "at least one value"),
    (["--sample", "3", "--vary", "demand.quantity*=triangular(1,3,2)"], "low ≤ mode ≤ high"),
    (["--sample", "3", "--vary", "demand.quantity*=lognormal(0,-1)"], "sigma must be ≥ 0"),
    (["--sample", "3", "--vary", "demand.quantity*=uniform(a,2)"], "must be a number"),
    (["--workers", "-3"], "--workers"),
    (["--workers", "2", "--chunk-size", "0"], "--chunk-size"),
    (["--workers", "2", "--chunk-timeout", "0"], "--chunk-timeout"),
    (["--workers", "2", "--retries", "-1"], "--retries"),
    (["--workers", "2", "--grid", "demand.quantityy*=1,2"], "no column 'quantityy'"),
    (["--workers", "2", "--grid", "demand.quantity[comodity=ev]*=1,2"], "'comodity' to select on"),
    (["--workers", "2", "--grid", "processes.stage=1,2"], "not a numeric column"),
    (["--workers", "2", "--grid", "demand.quantity*=,"], "no values"),
    (["--workers", "2", "--scenario", "nope"], "no scenario of that name"),
])
def test_bad_cli_options_exit_2_before_any_worker_starts(no_pool, args, says):
    r = CliRunner().invoke(app, ["sweep", str(TOY), *args, "-q"])
    assert r.exit_code == 2, r.output
    assert says in r.output and "Traceback" not in r.output
