"""Scenario sweeps: solve many what-ifs of one instance, on this machine or a Dask cluster.

Within a worker the model is built once and every further scenario re-solves the SAME model
in place: with HiGHS, the LP stays inside HiGHS and only the costs and bounds that the
scenario changes are passed to it (:class:`rechain.solvers.direct.DirectModel`); with another
solver, the Pyomo model's mutable parameters are changed (:func:`rechain.model.update_parameters`)
and its persistent interface re-solves. HiGHS keeps its basis, so each re-solve is
warm-started. A scenario whose changes alter the model's sparsity (e.g. a new demand row, a limit turned
blank) is built afresh for itself. A scenario that fails is a row of the summary with status
``error`` and the message, never the end of the sweep.

The tables of a :class:`SweepResult` are the result tables of SPEC section 3 with a leading
``scenario`` column, in the order the scenarios were given, whatever the number of workers
and the order in which they finished.

A worker sends numbers, not tables: re-solves of one model share its result layout (the key
columns of every table, :class:`rechain.model.results.ResultLayout`), so a chunk carries the
keys once and, per scenario, only the value columns (:class:`_Pack`). The tables are put
together once, at the end; their name columns repeat the layout's without copying when pandas
keeps strings in Arrow (its default from pandas 3), so a sweep of many scenarios costs little
more memory than its numbers.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import threading
import time
import traceback
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from rechain.model import Instance, InstanceError, build_model, load_instance, update_parameters
from rechain.model.errors import RebuildRequired
from rechain.model.results import TABLE_COLUMNS, VALUE_COLUMNS
from rechain.model.scenarios import Scenario, as_scenario, scenario_table

from . import pyomo_highs
from .solve import solve

SUMMARY_COLUMNS = ["scenario", "status", "objective", "message", "reason", "rebuilt", "iterations", "seconds", "worker"]

#: ``reason`` in a sweep's summary: why a scenario has no result ("" when it was solved, whatever
#: the solver's status). ``invalid`` and ``failed`` have status ``error``; the others ``lost``:
#: the scenario's chunk was lost to a worker fault on every attempt (see :func:`sweep`)
REASONS = {
    "invalid": "the scenario's changes do not apply to the instance",
    "failed": "building or solving the scenario raised an error (the message says which)",
    "worker died": "the worker process running its chunk died (killed, crashed, out of memory)",
    "timed out": "its chunk did not come back within the chunk timeout (a frozen or stalled worker)",
    "worker error": "the worker could not run its chunk (the message says why)",
    "no worker": "no Dask worker was left to run its chunk",
}

#: how many times a lost chunk is tried again (on another worker) before its scenarios are lost
RETRIES = 2

#: seconds a Dask scheduler or nanny has to answer one call made while a chunk times out (they
#: answer in milliseconds); no call then waits on a worker, which a frozen one never answers
DASK_ANSWER = 10.0


class SweepOptionError(ValueError):
    """An option of a sweep that cannot work, found before any worker starts."""


@dataclass
class SweepResult:
    """Outcome of a sweep: ``summary`` (scenario, status, objective, message, rebuilt,
    iterations, seconds, worker), one table per result kind (``capacity``, ``prices``, …)
    with a ``scenario`` column, and ``parameters`` (scenario + the values a grid or sample
    drew). Money in the instance's units, as in :class:`rechain.model.Result`."""

    summary: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    parameters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["scenario"]))
    timings: dict = field(default_factory=dict)

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and item in tables:
            return tables[item]
        raise AttributeError(item)

    @property
    def objectives(self) -> pd.Series:
        """Objective by scenario label (NaN where a scenario did not solve)."""
        return self.summary.set_index("scenario")["objective"]

    @property
    def ok(self) -> bool:
        return bool((self.summary["status"] == "optimal").all())

    def with_parameters(self, name: str) -> pd.DataFrame:
        """Table ``name`` with the scenario parameters joined on as columns."""
        return self.tables[name].merge(self.parameters, on="scenario", how="left")

    def to_folder(self, path: str | os.PathLike, overwrite: bool = True, replaceable=None) -> Path:
        """Write ``summary.csv``, ``parameters.csv`` and one CSV per table, atomically
        (``replaceable`` as in :func:`rechain.model.atomic.atomic_write_folder`)."""
        from rechain.model.atomic import atomic_write_folder

        path = Path(path)

        def write(tmp: Path) -> None:
            kw = dict(index=False, lineterminator="\n", float_format="%.10g")
            self.summary.to_csv(tmp / "summary.csv", **kw)
            self.parameters.to_csv(tmp / "parameters.csv", **kw)
            for name, t in self.tables.items():
                t.to_csv(tmp / f"{name}.csv", **kw)

        atomic_write_folder(path, write, overwrite=overwrite, replaceable=replaceable)
        return path

    def __repr__(self) -> str:
        counts = self.summary["status"].value_counts().to_dict()
        return f"SweepResult({len(self.summary)} scenarios, {counts})"


# --------------------------------------------------------------------------------------------
# Work done in a worker (a process of the pool, a Dask worker, or this process)
# --------------------------------------------------------------------------------------------


class _Runner:
    """Solves scenarios of one instance, keeping built models to re-solve in place: the model
    of the instance itself and, with HiGHS, the model of the last scenario of another shape
    (a scenario that changes the LP's rows, columns or non-zeros; ``rebuilt`` in the summary).

    A scenario warm-starts from the scenario just before it in its chunk when both were solved
    on the same model (the same shape); otherwise (the first of a chunk, or after a scenario
    of another shape) it starts cold. What a scenario starts from thus depends on its chunk
    alone, so an LP with several optimal bases (common: degenerate duals) gives the same
    answer whichever worker ran the chunk and whatever that worker ran before; and a
    scenario that starts cold is solved as a solve from scratch would solve it."""

    def __init__(self, instance: Instance, tables: Sequence[str], solve_options: dict):
        self.instance = instance
        self.tables = list(tables)
        # as sweep() checked them (_solver_settings): solver, method, time_limit, options
        self.options = {"solver": "highs", "method": "auto", "time_limit": None, "options": {}, **solve_options}
        self.model = None  # the model of the instance itself, built on first use
        self.other = None  # HiGHS: the model of the last scenario of another shape
        self._last = None  # the model the previous scenario of this chunk was solved on

    def run(self, index: int, scenario: Scenario) -> dict:
        t0 = time.perf_counter()
        rec = {"index": index, "scenario": scenario.label, "status": "error", "objective": math.nan,
               "message": "", "reason": "", "rebuilt": False, "iterations": math.nan, "worker": f"{os.getpid()}:{threading.get_ident()}",
               "tables": {}}
        try:
            inst = scenario.apply(self.instance)
            res, layout, columns, used = self._solve(inst, rec)
            rec.update(status=res.status, message=res.message,
                       objective=res.objective if res.objective is not None else math.nan)
            rec["iterations"] = _iterations(used)
            if res.ok and layout is not None:  # the numbers only; the keys are the layout's
                rec["layout"], rec["columns"] = layout, {name: columns[name] for name in self.tables}
            elif res.ok:
                rec["tables"] = {name: getattr(res, name) for name in self.tables}
        except InstanceError as e:
            rec["message"], rec["reason"] = f"the scenario does not apply to the instance: {e}", "invalid"
        except Exception as e:  # reported in the summary, never fatal to the sweep
            rec["message"], rec["reason"] = f"{type(e).__name__}: {e}", "failed"
            rec["traceback"] = traceback.format_exc()
        rec["seconds"] = time.perf_counter() - t0
        return rec

    def _solve(self, inst: Instance, rec: dict):
        """Solve ``inst`` on a kept model changed in place, or on a model of its own shape.
        Returns ``(result, layout, columns, model)``: with HiGHS the tables as numbers
        (:meth:`~rechain.solvers.direct.DirectModel.solve_columns`), otherwise in ``result``
        (``layout`` and ``columns`` None)."""
        solver, method, time_limit, opts = (self.options[k] for k in ("solver", "method", "time_limit", "options"))
        if solver == "highs" and method in ("auto", "direct"):
            from .direct import DirectModel

            def fresh(of):  # the numerics report goes to Result.warnings, which a sweep does not keep
                return DirectModel(of, check_numerics=False)

            if self.model is None:
                self.model = fresh(self.instance)
            try:
                model = self.model.update(inst)
            except RebuildRequired:
                rec["rebuilt"] = True  # another shape than the instance's
                model = None
                if self.other is not None:
                    try:
                        model = self.other.update(inst)
                    except RebuildRequired:
                        pass
                if model is None:
                    model = self.other = fresh(inst)
            if model is not self._last:
                model.forget_basis()
            self._last = model
            return (*model.solve_columns(time_limit=time_limit, **opts), model)
        if self.model is None:
            self.model = build_model(self.instance)
        try:
            update_parameters(self.model, inst)
            model = self.model
            if model is not self._last:
                _forget_basis(model)
        except RebuildRequired:
            model = build_model(inst)
            rec["rebuilt"] = True  # another shape than the instance's
        self._last = model
        return solve(model, solver=solver, time_limit=time_limit, highs=opts), None, None, model

    def run_chunk(self, items: Sequence[tuple[int, Scenario]]) -> dict:
        """The scenarios of one chunk, packed as they are solved (:class:`_Pack`): their
        summary rows and their tables, the key columns once per model shape and the numbers
        per scenario."""
        pack = _Pack(self.tables, len(items))
        self._last = None
        for i, s in items:
            pack.add(self.run(i, s))
        return pack.done()


class _Pack:
    """The results of a chunk as a worker sends them back: ``records`` (summary rows, in
    order) and ``segments``, runs of scenarios whose tables share their key columns
    (re-solves of one model shape). A segment has ``labels`` (its scenarios), ``keys`` (per
    table, the key columns, sent once) and ``values`` (per table and value column, the
    numbers of its scenarios one after the other). Each solve's numbers are copied into
    arrays made once per segment, so a chunk's memory does not grow by many small pieces."""

    def __init__(self, tables: Sequence[str], size: int):
        self.tables, self.left = list(tables), size
        self.records: list[dict] = []
        self.segments: list[dict] = []
        self._layout = None  # the layout of the open segment

    def add(self, rec: dict) -> None:
        self.left -= 1
        layout, columns, tabs = rec.pop("layout", None), rec.pop("columns", None), rec.pop("tables", None)
        self.records.append(rec)
        if columns is None and not tabs:  # no tables (the scenario did not solve)
            return
        if columns is None:  # a Result's tables (another solver): split into keys and numbers
            keys = {name: tabs[name][[c for c in TABLE_COLUMNS[name] if c not in VALUE_COLUMNS[name]]] for name in self.tables}
            columns = {name: {c: tabs[name][c].to_numpy(dtype="float64") for c in VALUE_COLUMNS[name]} for name in self.tables}
        elif layout is not self._layout:
            keys = {name: layout.key_frames[name] for name in self.tables}
        if layout is None or layout is not self._layout:  # a new segment
            room = self.left + 1 if layout is not None else 1  # at most the rest of the chunk
            self.segments.append({"labels": [], "keys": keys, "values": {
                name: {c: np.empty((room, len(v))) for c, v in columns[name].items()} for name in self.tables}})
            self._layout = layout
        seg = self.segments[-1]
        row = len(seg["labels"])
        for name in self.tables:
            for c, v in columns[name].items():
                seg["values"][name][c][row] = v
        seg["labels"].append(rec["scenario"])

    def done(self) -> dict:
        """The pack, each segment's value arrays cut to its scenarios. The ``scenario`` column is
        not in it: the receiving side makes it from ``labels`` (:func:`_scenario_column`), as
        every label repeated over hundreds of rows would be most of what a worker sends back."""
        for seg in self.segments:
            k = len(seg["labels"])
            seg["values"] = {name: {c: a[:k].reshape(-1) for c, a in cols.items()} for name, cols in seg["values"].items()}
        return {"records": self.records, "segments": self.segments}


def _scenario_column(seg: dict) -> tuple[Any, int]:
    """A segment's ``scenario`` column, made once and kept in it: every label repeated
    ``longest`` times (the rows of its longest table), which each table slices; and ``longest``."""
    if "scenario" not in seg:
        k = len(seg["labels"])
        seg["longest"] = n = max((len(t) for t in seg["keys"].values()), default=0)
        seg["scenario"] = pd.Series(np.array(seg["labels"], dtype=object)).array.take(np.repeat(np.arange(k), n))
    return seg["scenario"], seg["longest"]


def _pack(recs: list[dict], tables: Sequence[str]) -> dict:
    """``recs`` packed (:class:`_Pack`)."""
    pack = _Pack(tables, len(recs))
    for r in recs:
        pack.add(r)
    return pack.done()


def _table(segments: list[dict], name: str) -> pd.DataFrame:
    """Result table ``name`` of the scenarios of ``segments`` (in order), with a leading
    ``scenario`` column: the key columns are each segment's keys once per scenario, the
    scenario column slices of each segment's, the value columns the numbers as they came."""
    if not segments:
        return pd.DataFrame(columns=["scenario"] + TABLE_COLUMNS[name])
    rows = [len(seg["keys"][name]) for seg in segments]
    counts = [len(seg["labels"]) for seg in segments]
    labels = [_scenario_column(seg) for seg in segments]
    cols = {"scenario": _gather([(column, [(j * longest, r) for j in range(k)])
                                 for (column, longest), k, r in zip(labels, counts, rows)])}
    values = VALUE_COLUMNS[name]
    for c in TABLE_COLUMNS[name]:
        if c in values:
            parts = [seg["values"][name][c] for seg in segments]
            cols[c] = parts[0] if len(parts) == 1 else np.concatenate(parts)
        else:
            cols[c] = _gather([(seg["keys"][name][c].array, [(0, r)] * k) for seg, k, r in zip(segments, counts, rows)])
    return pd.DataFrame(cols, copy=False)  # the columns are new arrays: no need to copy them again


def _gather(pieces: list[tuple[Any, list[tuple[int, int]]]]) -> pd.Series:
    """One column from ``pieces``, each a pandas array and the (start, length) spans of it to
    take, in order. Arrow-backed strings (pandas' ``str`` from pandas 3) are not copied: the
    column is a chunked array of slices of the pieces. Otherwise the values are taken, and
    the column keeps the pieces' dtype (an object column stays object, not inferred as str)."""
    dtype = pieces[0][0].dtype
    if all(arr.dtype == dtype for arr, _ in pieces) and (getattr(dtype, "storage", None) == "pyarrow"
                                                         or isinstance(dtype, pd.ArrowDtype)):
        import pyarrow as pa

        chunks, kind = [], None
        for arr, spans in pieces:
            a = arr.__arrow_array__()
            kind = a.type
            if isinstance(a, pa.ChunkedArray):
                if a.num_chunks == 1:
                    a = a.chunk(0)
                else:
                    chunks.extend(part for start, n in spans for part in a.slice(start, n).chunks)
                    continue
            chunks.extend(a.slice(start, n) for start, n in spans)
        return pd.Series(pa.chunked_array(chunks, type=kind), dtype=dtype, copy=False)
    parts = []
    for arr, spans in pieces:
        idx = np.concatenate([np.arange(start, start + n) for start, n in spans]) if spans else np.zeros(0, dtype=np.int64)
        parts.append(pd.Series(arr.take(idx), dtype=arr.dtype, copy=False))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _forget_basis(model) -> None:
    opt = getattr(model, "_rechain_highs", None)
    h = pyomo_highs.highs(opt) if opt is not None else None
    if h is not None:
        h.clearSolver()


def _iterations(model) -> float:
    try:
        if hasattr(model, "iterations"):  # a DirectModel
            return float(model.iterations)
        return float(pyomo_highs.highs(model._rechain_highs).getInfo().simplex_iteration_count)
    except Exception:
        return math.nan


# local process pool: one runner per worker process, made by the pool's initializer
_RUNNER: _Runner | None = None


def _init_process(instance, tables, solve_options):
    global _RUNNER
    _RUNNER = _Runner(instance, tables, solve_options)


def _process_chunk(items):
    return _RUNNER.run_chunk(items)


# Dask: runners cached per (sweep token, worker thread), so each worker thread builds once.
# Pyomo is not thread-safe (its solver output capture redirects file descriptors), so Dask
# workers that are threads of one process (LocalCluster(processes=False)) take turns.
_DASK_RUNNERS: dict = {}
_DASK_LOCK = threading.Lock()
_PYOMO_LOCK = threading.Lock()


def _dask_chunk(token, instance, tables, solve_options, items):
    key = (token, threading.get_ident())
    with _DASK_LOCK:
        runner = _DASK_RUNNERS.get(key)
        if runner is None:
            runner = _DASK_RUNNERS[key] = _Runner(instance, tables, solve_options)
    with _PYOMO_LOCK:
        return runner.run_chunk(items)


def _dask_forget(token):
    with _DASK_LOCK:
        for key in [k for k in _DASK_RUNNERS if k[0] == token]:
            del _DASK_RUNNERS[key]
    return True


def _dask_instance(instance):
    """The instance as a task's result, not scattered data: should every worker holding it die,
    the scheduler computes it again from the task (scattered data would be lost for good)."""
    return instance


def _dask_stop_worker(dask_worker=None):
    """Run on a nanny: kill the worker process it looks after (frozen: a kill is the only signal
    it obeys); the nanny starts a new one."""
    os.kill(dask_worker.process.process.pid, signal.SIGKILL)
    return True


# --------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------


def sweep(
    instance: Instance | str | os.PathLike,
    scenarios: Iterable[Any],
    workers: int = 1,
    backend: str = "local",
    scheduler: Any = None,
    progress: bool = True,
    tables: Sequence[str] | None = None,
    chunk_size: int | None = None,
    on_result: Callable[[dict], None] | None = None,
    time_limit: float | None = None,
    chunk_timeout: float | None = None,
    retries: int = RETRIES,
    highs: dict | None = None,
    **solver_options,
) -> SweepResult:
    """Solve every scenario of ``scenarios`` on ``instance`` and gather the results.

    ``instance``: an :class:`Instance` or the path of one. ``scenarios``: :class:`Scenario`
    values, scenario names, change mappings or lists of them, ``None`` for the base
    (labels must be unique). ``workers``: processes (``backend="local"``; 1 solves in this
    process) or Dask workers of the LocalCluster started when ``backend="dask"`` and no
    ``scheduler`` is given; ``scheduler`` is a Dask scheduler address, a
    ``distributed.Client`` or a cluster. ``tables``: the result kinds to keep (default all).
    Scenarios go to workers in chunks of ``chunk_size`` scenarios (default: about 32 chunks,
    of 10 to 100 scenarios; it depends on the number of scenarios only). A scenario
    warm-starts from the one before it in its chunk when both have the LP's shape, and starts
    cold otherwise, so the tables depend on the chunk size but not on the number of workers,
    the backend or the order in which chunks finish; larger chunks mean fewer cold starts,
    smaller ones a more even share among many workers. ``on_result`` is called with each
    scenario's summary row as it arrives; ``progress`` shows a progress bar. ``time_limit``
    ``highs`` (HiGHS's own options, e.g. ``{"solver": "ipm"}``) and ``solver_options``
    (``solver``, ``method`` and options by keyword) are those of
    :func:`rechain.solvers.solve`, and reach the solve of every scenario on every worker.

    Worker faults: a chunk whose worker process dies (``BrokenProcessPool`` of a local pool,
    a killed Dask worker) or that does not come back within ``chunk_timeout`` seconds (a
    frozen worker; default :func:`default_chunk_timeout` of the chunk's size and ``time_limit``) is
    tried again on another worker, up to ``retries`` more times; a broken local pool is
    replaced and only the chunks it lost are sent again, and a frozen worker is killed (a
    Dask worker through its nanny, which starts a new one, and the scheduler forgets it at
    once, so no chunk waits for what it held). A chunk starts cold wherever it
    runs, so the scenarios that finish have the tables of a sweep without faults. The
    scenarios of a chunk lost on every attempt are rows of the summary with status ``lost``,
    a ``reason`` (:data:`REASONS`) and a message that says what happened on each attempt.
    A local pool does not run two chunks that were on a worker when it died side by side, so
    a chunk that kills its worker every time does not take another chunk's attempts with it.
    With one worker (this process) there is nothing to retry or time out.

    Options are checked before any worker starts (:class:`SweepOptionError`, a ValueError):
    ``workers``, ``chunk_size`` ≥ 1, ``chunk_timeout`` > 0, ``retries`` ≥ 0, ``time_limit``,
    ``solver``, ``method`` and the HiGHS options (each one set on a HiGHS of this process), and
    every scenario name and changed table, column and ``where`` column known to the instance.

    Worker processes (``backend="local"`` with ``workers > 1``, or the default Dask
    LocalCluster) start fresh interpreters on some platforms: call ``sweep`` from under
    ``if __name__ == "__main__":`` in a script.
    """
    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    scens = [as_scenario(s) for s in scenarios]
    counts = pd.Series([s.label for s in scens], dtype=object).value_counts()
    dupes = sorted(counts[counts > 1].index)
    if dupes:
        raise SweepOptionError(f"scenario labels must be unique; repeated: {', '.join(dupes[:5])}")
    tables = list(TABLE_COLUMNS) if tables is None else list(tables)
    unknown = [t for t in tables if t not in TABLE_COLUMNS]
    if unknown:
        raise SweepOptionError(f"unknown result table(s) {', '.join(unknown)} (known: {', '.join(TABLE_COLUMNS)})")
    if backend not in ("local", "dask"):
        raise SweepOptionError(f"backend is 'local' or 'dask', not {backend!r}")
    workers = _whole("workers", workers)
    if chunk_size is not None:
        chunk_size = _whole("chunk_size", chunk_size)
    retries = _whole("retries", retries, least=0)
    if chunk_timeout is not None and (isinstance(chunk_timeout, bool) or not isinstance(chunk_timeout, (int, float))
                                      or not 0 < chunk_timeout < math.inf):
        raise SweepOptionError(f"chunk_timeout is a finite number of seconds > 0, not {chunk_timeout!r}")
    check_scenarios(instance, scens)
    options = _solver_settings(time_limit, highs, solver_options)

    items = list(enumerate(scens))
    n = len(items)
    if chunk_size is None:
        chunk_size = min(100, max(10, -(-n // 32)))
    chunks = [_Chunk(items[i:i + chunk_size]) for i in range(0, n, chunk_size)]

    def timeout_of(chunk: _Chunk) -> float:
        if chunk_timeout is not None:
            return float(chunk_timeout)
        return default_chunk_timeout(len(chunk.items), options["time_limit"])

    records: dict[int, dict] = {}
    packs: dict[int, list] = {}  # the table segments of each chunk, by the index of its first scenario
    faults = {"retried": 0, "lost": 0}
    with _Progress(n, progress, f"sweep of {instance.name}") as bar:
        def collect(pack):
            recs = pack["records"]
            if recs:
                packs[recs[0]["index"]] = pack["segments"]
            for r in recs:
                records[r["index"]] = r
                if on_result is not None:
                    on_result({k: r[k] for k in SUMMARY_COLUMNS if k in r})
            bar.advance(len(recs), recs[-1]["scenario"] if recs else "")

        def fault(chunk: _Chunk, reason: str, detail: str, queue: deque | None) -> None:
            """``chunk`` was lost on one attempt: try it again first (at the head of ``queue``),
            or, with no retry left or no ``queue``, report its scenarios lost."""
            chunk.faults.append((reason, detail))
            if queue is not None and len(chunk.faults) <= retries:
                faults["retried"] += 1
                queue.appendleft(chunk)
                return
            faults["lost"] += len(chunk.items)
            tries = "; ".join(f"attempt {k}: {d}" for k, (_, d) in enumerate(chunk.faults, 1))
            message = f"lost with its chunk of {len(chunk.items)} scenario(s) after {len(chunk.faults)} attempt(s) ({tries})"
            collect(_pack([_failed(i, s, message, "lost", reason) for i, s in chunk.items], ()))

        if backend == "local" and (workers == 1 or len(chunks) <= 1):
            runner = _Runner(instance, tables, options)
            for chunk in chunks:
                collect(runner.run_chunk(chunk.items))
        elif backend == "local":
            _run_pool(instance, tables, options, chunks, workers, collect, fault, timeout_of)
        else:
            _run_dask(instance, tables, options, chunks, workers, scheduler, collect, fault, timeout_of)

    ordered = [records[i] for i in range(n)]
    summary = pd.DataFrame([{k: r.get(k) for k in SUMMARY_COLUMNS} for r in ordered], columns=SUMMARY_COLUMNS)
    summary["objective"] = summary["objective"].astype("float64")
    summary["rebuilt"] = summary["rebuilt"].astype(bool)
    segments = [seg for k in sorted(packs) for seg in packs[k]]
    out = {name: _table(segments, name) for name in tables}
    return SweepResult(summary, out, scenario_table(scens), {"total": time.perf_counter() - t0, "workers": workers,
                                                                "backend": backend, "chunks": len(chunks), **faults})


def _solver_settings(time_limit, highs: dict | None, solver_options: dict) -> dict:
    """The options of every scenario's solve, checked as :func:`rechain.solvers.solve` checks
    them (:func:`~rechain.solvers.solve.solver_settings`) and, for HiGHS, each option set on a
    HiGHS of this process: ``solver``, ``method``, ``time_limit`` and ``options`` (by name), or
    a :class:`SweepOptionError`."""
    from .direct import check_time_limit
    from .solve import _check_options, solver_settings

    rest = dict(solver_options)
    solver, method = rest.pop("solver", "highs"), rest.pop("method", "auto")
    try:
        time_limit, options = solver_settings(solver, method, check_time_limit(time_limit), highs, rest)
        if solver == "highs":
            for k, v in options.items():
                try:
                    _check_options({k: v})
                except (ValueError, TypeError):
                    raise ValueError(f"HiGHS refused the option {k}={v!r} (an unknown name, or a value out of its range "
                                     "or of the wrong type)") from None
        elif method == "direct":
            raise ValueError(f"method 'direct' needs solver 'highs', not {solver!r}")
    except (ValueError, TypeError) as e:
        raise SweepOptionError(str(e)) from None
    return {"solver": solver, "method": method, "time_limit": time_limit, "options": options}


def default_chunk_timeout(size: int, time_limit: float | None = None) -> float:
    """The default chunk timeout, in seconds, of a chunk of ``size`` scenarios: 60 s for the
    worker to build its model, then 10 s a scenario (plus ``time_limit``, when one is set) —
    many times what a scenario of the shipped instances takes (well under 1 s), so only a
    frozen or stalled worker reaches it."""
    return 60.0 + size * (10.0 + (float(time_limit) if time_limit is not None else 0.0))


def _whole(name: str, value: Any, least: int = 1) -> int:
    """``value`` as a whole number ≥ ``least``, or a :class:`SweepOptionError`."""
    try:
        ok = not isinstance(value, bool) and float(value) == int(value) and value >= least
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise SweepOptionError(f"{name} is a whole number ≥ {least}, not {value!r}")
    return int(value)


def check_scenarios(instance: Instance, scenarios: Sequence[Scenario]) -> None:
    """Raise :class:`SweepOptionError` unless every step of ``scenarios`` can be tried on
    ``instance``: each named scenario exists, each change names a known table, column and
    ``where`` columns (:func:`rechain.model.scenarios.check_axis`). Whether a change's values
    fit, and its ``where`` values match rows, is each scenario's own outcome (status
    ``error``). Each distinct kind of change is checked once."""
    from rechain.model.scenarios import check_axis

    seen: set = set()
    for s in scenarios:
        for step in s.changes:
            if isinstance(step, str):
                if step not in instance.scenarios:
                    known = ", ".join(instance.scenarios) or "none"
                    raise SweepOptionError(f"scenario '{s.label}': the instance has no scenario named '{step}' (named: {known})")
                continue
            where = step.get("where") or {}
            how = "scale" if "scale" in step else "set"
            key = (step.get("table"), step.get("column"), how,
                   tuple(where) if isinstance(where, dict) else repr(where))
            if key in seen:
                continue
            seen.add(key)
            try:
                check_axis(step.get("table"), step.get("column"), where, how)
            except ValueError as e:
                raise SweepOptionError(f"scenario '{s.label}': {e}") from None


class _Chunk:
    """Scenarios sent to a worker together: ``items`` (index, scenario), ``faults`` (reason,
    detail) of its lost attempts; ``suspect`` once a worker died while running it."""

    __slots__ = ("items", "faults", "suspect")

    def __init__(self, items: list):
        self.items, self.faults, self.suspect = items, [], False


def _failed(index, scenario, message, status="error", reason="failed"):
    return {"index": index, "scenario": scenario.label, "status": status, "objective": math.nan,
            "message": message, "reason": reason, "rebuilt": False, "iterations": math.nan, "seconds": math.nan,
            "worker": "", "tables": {}}


def _next(queue: deque, running: Iterable[_Chunk]) -> _Chunk | None:
    """The next chunk of ``queue`` to start beside ``running``: the first, but never a second
    suspect (a chunk that was on a worker that died) beside one, so the chunk that kills its
    worker is found alone."""
    busy = any(c.suspect for c in running)
    for k, c in enumerate(queue):
        if not (busy and c.suspect):
            del queue[k]
            return c
    return None


_POOL_DIED = "a process of the pool died while the chunk was on it (BrokenProcessPool)"


def _run_pool(instance, tables, options, chunks, workers, collect, fault, timeout_of):
    """Chunks on a pool of ``workers`` processes, as many in flight as workers (so a chunk's
    clock starts when it does). A pool a worker of which died (BrokenProcessPool) or froze
    (its chunk timed out; the pool's processes are then killed) is replaced, and only the
    chunks it lost are sent again."""
    queue = deque(chunks)
    while queue:
        slots = min(workers, len(queue))
        pool = ProcessPoolExecutor(max_workers=slots, initializer=_init_process, initargs=(instance, tables, options))
        running: dict = {}  # future -> (chunk, deadline)
        died = stopped = False
        try:
            while (queue or running) and not (died or stopped):
                while len(running) < slots:
                    chunk = _next(queue, [c for c, _ in running.values()])
                    if chunk is None:
                        break
                    running[pool.submit(_process_chunk, chunk.items)] = (chunk, time.monotonic() + timeout_of(chunk))
                first = min(d for _, d in running.values())
                done, _ = wait(list(running), timeout=max(0.0, first - time.monotonic()) + 0.01,
                               return_when=FIRST_COMPLETED)
                for f in done:
                    chunk, _ = running.pop(f)
                    exc = f.exception()
                    if exc is None:
                        collect(f.result())
                    elif isinstance(exc, BrokenProcessPool):
                        died = chunk.suspect = True
                        fault(chunk, "worker died", _POOL_DIED, queue)
                    else:
                        fault(chunk, "worker error", f"{type(exc).__name__}: {exc}", queue)
                now = time.monotonic()
                for f in [f for f, (_, d) in running.items() if d <= now and not f.done()]:
                    chunk, _ = running.pop(f)
                    fault(chunk, "timed out", f"no answer from its worker in {timeout_of(chunk):g} s", queue)
                    stopped = True
        except BaseException:
            _kill_pool(pool)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if died or stopped:
            _kill_pool(pool)
            # what was still in flight: a result that came is kept; a chunk on a worker that
            # died is a suspect that lost an attempt; one stopped by us is sent again as it was
            wait(list(running), timeout=30)
            back = []
            for f, (chunk, _) in running.items():
                if f.done() and f.exception() is None:
                    collect(f.result())
                elif died and not stopped:
                    chunk.suspect = True
                    fault(chunk, "worker died", _POOL_DIED, queue)
                else:
                    back.append(chunk)
            queue.extendleft(reversed(back))
        pool.shutdown(wait=True, cancel_futures=True)


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill the processes of ``pool`` (a frozen process obeys SIGKILL alone)."""
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            p.kill()
        except Exception:
            pass


def _run_dask(instance, tables, options, chunks, workers, scheduler, collect, fault, timeout_of):
    """Chunks on Dask workers, as many in flight as the workers have threads. A chunk whose
    worker died, or that failed, is sent again; one that timed out (or whose result its worker
    did not hand over within the chunk timeout) is cancelled, its worker and any worker whose
    heartbeat stopped are retired (:func:`_retire_dask_workers`) and left out for the rest of
    the sweep, and the chunk is sent again to the others.

    A frozen worker may hold what the sweep still needs: the result of a chunk it finished
    before freezing (the scheduler sends chunks where the instance is, so one worker often
    runs several in a row), or the only copy of the instance (the scheduler keeps one copy of
    data no waiting task needs: its active memory manager drops the others within seconds, so
    copies made when the sweep starts do not last). Until the scheduler forgets that worker,
    fetching either from it is tried again and again; so a result's fetch is bounded by the
    chunk timeout, and a frozen worker that its nanny does not kill is removed from the
    scheduler at once rather than after the scheduler's own timeout for a silent worker
    (minutes): the instance is computed again on a live worker."""
    try:
        from distributed import Client, LocalCluster
        from distributed import wait as dask_wait
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError("backend='dask' needs dask.distributed: pip install 'rechain[dask]'") from e

    own_client = own_cluster = None
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler is None:
        own_cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50)
        client = own_client = Client(own_cluster)
    else:  # an address, or a cluster object
        client = own_client = Client(scheduler)
    token = uuid.uuid4().hex
    frozen: set = set()  # addresses of workers that did not answer in time
    try:
        inst_f = client.submit(_dask_instance, instance, key=f"rechain-instance-{token}", pure=False)
        queue = deque(chunks)
        running: dict = {}  # future -> (chunk, deadline)
        idle_since = None
        while queue or running:
            live = {w: k for w, k in client.nthreads().items() if w not in frozen}
            slots = sum(live.values())
            if not live and not running:  # wait a while for a worker (a nanny restarts a killed one)
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > timeout_of(queue[0]):
                    while queue:
                        fault(queue.popleft(), "no worker", "no Dask worker left to run it", None)
                    break
                time.sleep(0.2)
                continue
            idle_since = None
            while queue and len(running) < slots:
                chunk = queue.popleft()
                f = client.submit(_dask_chunk, token, inst_f, tables, options, chunk.items, pure=False,
                                  workers=list(live) if frozen else None, allow_other_workers=False)
                running[f] = (chunk, time.monotonic() + timeout_of(chunk))
            if not running:
                time.sleep(0.2)
                continue
            first = min(d for _, d in running.values())
            try:  # a second at most, to see workers come and go
                dask_wait(list(running), timeout=min(1.0, max(0.0, first - time.monotonic()) + 0.01),
                          return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            late = []
            for f in [f for f in running if f.done()]:
                chunk, _ = running[f]
                try:  # the result comes from the worker that holds it, which may have frozen since
                    pack, error = f.result(timeout=timeout_of(chunk)), None
                except (Exception, asyncio.CancelledError) as exc:
                    if isinstance(exc, TimeoutError) and f.status == "finished":  # not handed over:
                        late.append(f)  # its worker is left out before any other result is fetched
                        break
                    pack, error = None, exc
                del running[f]
                f.release()  # now, not when collected as garbage: the scheduler would run it again were its worker lost
                if error is None:
                    collect(pack)
                else:
                    died = type(error).__name__ == "KilledWorker"
                    fault(chunk, "worker died" if died else "worker error", f"{type(error).__name__}: {error}", queue)
            now = time.monotonic()
            late += [f for f, (_, d) in running.items() if d <= now and f not in late]
            if late:
                where, stale = _dask_suspects(client, [f.key for f in late])
                for f in late:
                    chunk, _ = running.pop(f)
                    w = where.get(f.key)
                    f.cancel()
                    _retire_dask_workers(client, ({w} if w else set()) | stale, frozen)
                    stale = set()
                    fault(chunk, "timed out", f"no answer from worker {w or '?'} in {timeout_of(chunk):g} s", queue)
    finally:
        try:  # each worker drops the models it built; one that froze unnoticed is not waited for long
            others = [w for w in client.nthreads() if w not in frozen]
            if others:
                client.run(_dask_forget, token, workers=others, on_error="ignore", callback_timeout=DASK_ANSWER)
        except Exception:
            pass
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def _dask_suspects(client, keys: list, lag: float = 5.0) -> tuple[dict, set]:
    """``(where, silent)``: the worker that runs, or holds the result of, each of ``keys``, and
    the workers whose last heartbeat is ``lag`` seconds older than the latest one's (frozen
    ones), as the scheduler sees them; nothing when it does not answer in :data:`DASK_ANSWER` s."""
    try:
        return client.run_on_scheduler(_scheduler_suspects, list(keys), lag, callback_timeout=DASK_ANSWER)
    except Exception:
        return {}, set()


def _scheduler_suspects(keys, lag, dask_scheduler=None):
    """Run on the scheduler: :func:`_dask_suspects`."""
    where = {}
    for key in keys:
        ts = dask_scheduler.tasks.get(key)
        if ts is not None and ts.processing_on is not None:
            where[key] = ts.processing_on.address
        elif ts is not None and ts.who_has:
            where[key] = min(ws.address for ws in ts.who_has)
    seen = {a: ws.last_seen for a, ws in dask_scheduler.workers.items()}
    latest = max(seen.values(), default=0.0)
    return where, {a for a, t in seen.items() if latest - t > lag}


def _retire_dask_workers(client, addresses: set, frozen: set) -> None:
    """Leave the workers at ``addresses`` out for the rest of the sweep: kill each through its
    nanny, which starts a new one (the scheduler then drops the dead worker at once). One that
    no nanny killed (none, or it failed or did not answer) is removed from the scheduler, as
    the scheduler would remove a silent worker after its own timeout (minutes): its chunks and
    the data it held (the instance, perhaps) go to live workers. No call waits more than
    :data:`DASK_ANSWER` s."""
    addresses = set(addresses) - frozen
    frozen |= addresses
    left = []
    for address in sorted(addresses):
        try:
            killed = client.run(_dask_stop_worker, workers=[address], nanny=True, on_error="ignore",
                                callback_timeout=DASK_ANSWER).get(address) is True
        except Exception:
            killed = False
        if not killed:
            left.append(address)
    if left:
        try:
            client.run_on_scheduler(_scheduler_forget, left, callback_timeout=DASK_ANSWER)
        except Exception:
            pass


async def _scheduler_forget(addresses, dask_scheduler=None):
    """Run on the scheduler: remove the workers at ``addresses`` now, without a word to them (a
    frozen one never reads it; one that wakes up learns at its next heartbeat that it is gone,
    and closes)."""
    for address in addresses:
        await dask_scheduler.remove_worker(address, stimulus_id=f"rechain-frozen-worker-{time.time()}", close=False)


class _Progress:
    """A rich progress bar, or nothing."""

    def __init__(self, total: int, show: bool, title: str):
        self.total, self.show, self.title = total, show, title
        self.bar = None

    def __enter__(self):
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[last]}"),
                                transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.title, total=self.total, last="")
        return self

    def advance(self, k: int, last: str = ""):
        if self.bar is not None:
            self.bar.update(self.task, advance=k, last=last)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


from . import callable_module  # noqa: E402

callable_module(__name__)
