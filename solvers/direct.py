"""Solving an instance without Pyomo: the LP arrays of :mod:`rechain.model.matrix` handed to
HiGHS (highspy) in one ``passModel`` call.

It is the same LP as the Pyomo model, in the same row and column order, so the optimum and
the duals are those of the Pyomo path; it is the fast path for a one-off solve of an
:class:`~rechain.model.Instance` (``solve(instance)`` takes it by default). The Pyomo model
stays the definition users extend; a model they changed is solved through Pyomo.

Nothing here imports Pyomo, so ``rechain solve`` starts quickly.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from rechain.model.data import prepare
from rechain.model.instance import Instance
from rechain.model.matrix import LinearProgram, assemble
from rechain.model.results import Result

HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
}
MESSAGES = {
    "optimal": "optimal solution found",
    "infeasible": "the instance is infeasible: no plan meets every hard constraint",
    "unbounded": "the instance is unbounded: some cost can fall without limit",
    "time_limit": "the solver stopped at its time or iteration limit before proving optimality",
}

_banner_shown = False


def new_highs():
    """A fresh ``highspy.Highs()``; HiGHS prints a banner on the first one a process makes,
    which would land in the middle of a command's output, so that one is made with stdout
    pointed at the null device."""
    global _banner_shown
    import highspy

    if _banner_shown:
        return highspy.Highs()
    _banner_shown = True
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured): nothing to hide
        return highspy.Highs()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            h = highspy.Highs()
    finally:
        os.dup2(saved, fd)
        os.close(saved)
    return h


def to_highs(lp: LinearProgram, h=None):
    """Pass ``lp`` to a HiGHS object (a fresh one unless ``h`` is given; its model is replaced).

    The arrays go as they are, HiGHS copying each once: an LP as its rows (bounds only) and
    then its columns with their entries (``addRows``, ``addCols``), a MIP with ``passModel``.
    (A ``HighsLp`` filled attribute by attribute converts every element one by one first,
    several times slower; the array form of ``passModel`` takes an integrality, and HiGHS
    warns of one that marks no column as integer.)"""
    import highspy

    if h is None:
        h = new_highs()
    a = lp.matrix.without_zeros()  # a coefficient that is 0 now is no entry (HiGHS would drop it, with a warning)
    cost, lower, upper, row_lower, row_upper, value = (
        np.ascontiguousarray(x, dtype=np.float64) for x in (lp.col_cost, lp.col_lower, lp.col_upper, lp.row_lower,
                                                            lp.row_upper, a.data))
    start, index = a.indptr.astype(np.int32), np.ascontiguousarray(a.indices, dtype=np.int32)
    if lp.integer is not None:
        kinds = np.zeros(lp.num_col, dtype=np.int32)  # HighsVarType.kContinuous
        kinds[lp.integer] = int(highspy.HighsVarType.kInteger)
        _check(h.passModel(lp.num_col, lp.num_row, a.nnz, int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
                           float(lp.offset), cost, lower, upper, row_lower, row_upper, start, index, value, kinds), "passModel")
        return h
    _check(h.clearModel(), "clearModel")
    _check(h.addRows(lp.num_row, row_lower, row_upper, 0, np.zeros(lp.num_row, dtype=np.int32), np.zeros(0, dtype=np.int32),
                     np.zeros(0)), "addRows")
    _check(h.addCols(lp.num_col, cost, lower, upper, a.nnz, start[:-1], index, value), "addCols")
    _check(h.changeObjectiveOffset(float(lp.offset)), "changeObjectiveOffset")
    return h


def _check(status, what: str) -> None:
    """HiGHS answers a refused call with a status, not an error: turn it into one."""
    import highspy

    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS refused {what} (a number it treats as infinite or invalid?)")


def fix_integers(h, idx: np.ndarray, lo: np.ndarray, up: np.ndarray):
    """After a MILP solve in ``h``: the LP with the whole-number columns ``idx`` fixed at their
    values (its solution and duals are the plan's prices and shadow prices), and the LP
    relaxation's objective. ``lo``/``up``: those columns' bounds. HiGHS is left with the MILP as
    it was. Returns (solution, objective, mip info) or (None, None, message)."""
    import highspy

    info = h.getInfo()
    mip = {"objective": float(info.objective_function_value), "gap": float(info.mip_gap),
           "bound": float(info.mip_dual_bound), "integer_columns": int(len(idx))}
    idx = np.asarray(idx, dtype=np.int32)
    n = len(idx)
    whole = np.round(np.asarray(h.getSolution().col_value, dtype=float)[idx])
    try:
        _check(h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kContinuous)), "changeColsIntegrality")
        _check(h.changeColsBounds(n, idx, whole, whole), "changeColsBounds")
        h.run()
        status, name = status_of(h)
        if status != "optimal":
            return None, None, f"the LP with the whole-number decisions fixed is {name}"
        sol = h.getSolution()
        obj = float(h.getInfo().objective_function_value)
        _check(h.changeColsBounds(n, idx, lo, up), "changeColsBounds")
        h.run()
        status, name = status_of(h)
        mip["relaxation_objective"] = float(h.getInfo().objective_function_value) if status == "optimal" else float("nan")
    finally:
        _check(h.changeColsBounds(n, idx, lo, up), "changeColsBounds")
        _check(h.changeColsIntegrality(n, idx, np.full(n, highspy.HighsVarType.kInteger)), "changeColsIntegrality")
    return sol, obj, mip


def mip_message(mip: dict) -> str:
    return (f" (MILP: relative gap {mip['gap']:.3g}; LP relaxation {mip['relaxation_objective']:.8g}; "
            "prices and shadow prices are those of the LP with the whole-number decisions fixed)")


def status_of(h) -> tuple[str, str]:
    """rechain status and HiGHS's own name of the model status of ``h``."""
    import highspy

    st = h.getModelStatus()
    name = h.modelStatusToString(st)
    key = next((k for k in HIGHS_STATUS if getattr(highspy.HighsModelStatus, k) == st), None)
    return HIGHS_STATUS.get(key, "error"), name


#: LPs up to this many non-zeros get the numerics report by default (on the direct path it reads
#: the assembled LP and costs about a hundredth of the solve; larger ones ask for it with
#: ``check_numerics=True``)
NUMERICS_AUTO_LIMIT = 2_000_000


def numerics_warnings(data, nonzeros: int, check: bool | None, lp: LinearProgram | None = None) -> list[str]:
    """Warnings of :func:`rechain.model.numerics.report` (badly scaled rows, tiny coefficients)
    when ``check`` is True, or None and the LP is small enough to check at little cost;
    ``lp``: the assembled LP of ``data``, when at hand."""
    if check is False or (check is None and nonzeros > NUMERICS_AUTO_LIMIT):
        return []
    from rechain.model.numerics import report

    return list(report(data, lp=lp).warnings)


def check_time_limit(time_limit, positive: bool = False) -> float | None:
    """``time_limit`` as seconds (None: no limit); ValueError unless it is a number >= 0 (> 0
    with ``positive``; 0 stops the solver at once, which tests use)."""
    if time_limit is None:
        return None
    try:
        t = float(time_limit)
        ok = not isinstance(time_limit, bool) and (t > 0 if positive else t >= 0)  # False for NaN
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"time_limit must be a number of seconds {'>' if positive else '>='} 0 (or None for no limit), "
                         f"not {time_limit!r}")
    return t


#: the thread count HiGHS's global scheduler was last started for in this process (None: not asked)
_scheduler_threads: list = [None]


def _set_options(h, options: dict) -> None:
    import highspy

    if "threads" in options and options["threads"] != _scheduler_threads[0]:
        # HiGHS starts one task scheduler a process and refuses a solve whose 'threads' differs
        # from it: start it again for the count asked for (no solve runs in this process now)
        highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads[0] = options["threads"]
    for k, v in options.items():
        # HiGHS refuses an unknown option or a value out of range with a status, not an error
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS refused the option {k}={v!r}")


# the stages that add up to a solve's wall time (``prepare`` and ``assemble`` are within ``build``,
# ``highs_run`` within ``solve``)
_STAGES = ("build", "numerics", "handover", "update", "solve", "read", "extract")


def _total(timings: dict) -> float:
    return sum(timings.get(k, 0.0) for k in _STAGES)


class DirectModel:
    """The LP of one instance kept inside HiGHS, to solve it and then changed instances of the
    same shape in place: :meth:`update` re-derives the arrays of the changed instance and
    passes only the costs and bounds that differ (``changeColsCost``, ``changeColsBounds``,
    ``changeRowsBounds``), so the next :meth:`solve` warm-starts from the last basis.

    An instance of another shape (other rows, columns or coefficients: e.g. a blank limit
    turned finite, a new demand row, a changed io coefficient) raises
    :class:`~rechain.model.InstanceError`; build a new ``DirectModel`` for it.
    """

    def __init__(self, instance: Instance, tee: bool = False, check_numerics: bool | None = None, **options):
        self.timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.instance = self.base = instance
        self._data = self._base_data = prepare(instance)
        t1 = time.perf_counter()
        self.lp = self._base_lp = assemble(self._data)
        t2 = time.perf_counter()
        self.timings.update(prepare=t1 - t0, assemble=t2 - t1, build=t2 - t0)
        self.warnings = numerics_warnings(self._data, self.lp.num_nz, check_numerics, self.lp)
        self.timings["numerics"] = time.perf_counter() - t2
        t2 = time.perf_counter()
        self.highs = new_highs()
        # HiGHS's log goes to the console only with tee; its warnings are always collected
        # (a logging callback) and reported in Result.warnings
        _set_options(self.highs, {"output_flag": True, "log_to_console": bool(tee)})
        self.solver_warnings: list[str] = []
        self.highs.cbLogging.subscribe(self._log)
        _set_options(self.highs, options)
        to_highs(self.lp, self.highs)
        self.timings["handover"] = time.perf_counter() - t2
        self._layout = self._base_layout = None  # result layouts, made on the first solve
        self._parameters = None  # result parameters after an in-place update (None: the ModelData's)
        self._map = None  # rechain.model.params.ParameterMap of the base instance, made on the first update
        self._col_of = None
        #: how the last :meth:`update` went: "mapped" (numbers changed in place), "prepared"
        #: (the instance prepared and assembled again, same shape) or None (no update yet)
        self.last_update: str | None = None

    @property
    def data(self):
        """The :class:`~rechain.model.data.ModelData` of the current instance (prepared on
        first use after an update that changed numbers in place)."""
        if self._data is None:
            self._data = prepare(self.instance)
        return self._data

    def update(self, instance: Instance) -> "DirectModel":
        """Make the LP in HiGHS that of ``instance`` (same shape), keeping the basis.

        Changed numbers that :mod:`rechain.model.params` maps (demands, prices, costs, limits,
        policy values, coefficients, ...) go straight into the arrays; otherwise the instance
        is prepared and assembled again and compared with the LP in HiGHS. Either way only the
        costs, bounds and coefficients that differ are passed to HiGHS. An instance of another
        shape raises :class:`~rechain.model.InstanceError` and leaves the model as it was."""
        from rechain.model.errors import RebuildRequired
        from rechain.model.params import ParameterMap

        t0 = time.perf_counter()
        old = self.lp
        try:
            if self._map is None:
                self._map = ParameterMap(self.base, self._base_data, self._base_lp)
            upd = self._map.apply(instance)
            lp, data, layout, parameters, how = upd.lp, upd.data, self._base_result_layout(), upd.params, "mapped"
        except RebuildRequired:
            data = prepare(instance)
            lp = assemble(data)
            a, b = old.matrix, lp.matrix
            same = (lp.num_col == old.num_col and lp.num_row == old.num_row and a.nnz == b.nnz
                    and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
                    and all(np.array_equal(old.cols[k], lp.cols[k]) for k in old.cols)
                    and all(np.array_equal(old.rows[k], lp.rows[k]) for k in old.rows))
            if not same:
                raise RebuildRequired("cannot update the LP in place: the instance gives other rows, columns or "
                                      "non-zeros; build a new model for it") from None
            layout, parameters, how = None, None, "prepared"
        try:
            self._push(old, lp)
        except Exception:
            # HiGHS may have taken some of the changes before it refused one: the LP inside it
            # is neither the old one nor the new one. Hand it the old LP whole, so the model
            # stays that of the instance it was (a later solve must never return a stale or
            # half-changed optimum), then say what was refused.
            to_highs(old, self.highs)
            raise
        self.instance, self._data, self.lp = instance, data, lp
        self._layout, self._parameters, self.last_update = layout, parameters, how
        self.timings = {"update": time.perf_counter() - t0}
        return self

    def _push(self, old: LinearProgram, lp: LinearProgram) -> None:
        """Pass to HiGHS the costs, bounds, coefficients and offset of ``lp`` that differ from
        ``old`` (the LP HiGHS holds); every call's status is checked."""
        h = self.highs
        idx = np.flatnonzero(lp.col_cost != old.col_cost).astype(np.int32)
        if len(idx):
            _check(h.changeColsCost(len(idx), idx, lp.col_cost[idx]), "changeColsCost")
        idx = np.flatnonzero((lp.col_lower != old.col_lower) | (lp.col_upper != old.col_upper)).astype(np.int32)
        if len(idx):
            _check(h.changeColsBounds(len(idx), idx, lp.col_lower[idx], lp.col_upper[idx]), "changeColsBounds")
        idx = np.flatnonzero((lp.row_lower != old.row_lower) | (lp.row_upper != old.row_upper)).astype(np.int32)
        if len(idx):
            _check(h.changeRowsBounds(len(idx), idx, lp.row_lower[idx], lp.row_upper[idx]), "changeRowsBounds")
        if lp.matrix.data is not old.matrix.data:
            idx = np.flatnonzero(lp.matrix.data != old.matrix.data)
            if len(idx):
                if self._col_of is None:
                    self._col_of = np.repeat(np.arange(lp.num_col, dtype=np.int64), np.diff(lp.matrix.indptr))
                rows, cols, vals = lp.matrix.indices[idx], self._col_of[idx], lp.matrix.data[idx]
                for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                    _check(h.changeCoeff(r, c, v), "changeCoeff")
        if lp.offset != old.offset:
            _check(h.changeObjectiveOffset(lp.offset), "changeObjectiveOffset")

    def _base_result_layout(self):
        from rechain.model.results import ResultLayout

        if self._base_layout is None:
            self._base_layout = ResultLayout(self._base_data)
        return self._base_layout

    def _result_layout(self):
        from rechain.model.results import ResultLayout

        if self._layout is None:
            self._layout = self._base_result_layout() if self._data is self._base_data else ResultLayout(self.data)
        return self._layout

    def _log(self, event) -> None:
        import highspy

        if event.data_out.log_type in (highspy.HighsLogType.kWarning, highspy.HighsLogType.kError):
            text = str(event.message).strip()
            if text and len(self.solver_warnings) < 50:
                self.solver_warnings.append("HiGHS: " + text)

    def forget_basis(self) -> None:
        """Start the next solve cold (from no basis)."""
        self.highs.clearSolver()

    @property
    def iterations(self) -> int:
        return int(self.highs.getInfo().simplex_iteration_count)

    def solve(self, instance: Instance | None = None, time_limit: float | None = None, **options) -> Result:
        """Solve the LP as it stands (after :meth:`update` with ``instance`` when given)."""
        res, layout, columns = self.solve_columns(instance, time_limit, **options)
        if layout is not None:
            t = time.perf_counter()
            res.tables = layout.frames(columns)
            res.timings["extract"] += time.perf_counter() - t
            res.timings["total"] = _total(res.timings)
        return res

    def solve_columns(self, instance: Instance | None = None, time_limit: float | None = None, **options):
        """As :meth:`solve`, but the result tables are left as numbers: ``(result, layout,
        columns)`` with ``result`` a :class:`Result` without tables and, when it is optimal,
        ``layout.frames(columns)`` the tables (:class:`~rechain.model.results.ResultLayout`);
        otherwise ``layout`` and ``columns`` are None. Re-solves of one shape share ``layout``,
        so a sweep sends the key columns of its tables once."""
        if instance is not None:
            self.update(instance)
        timings = dict(self.timings)
        inst = self.instance
        meta = dict(solver="highs", instance_name=inst.name, scenario=inst.scenario)
        t0 = time.perf_counter()
        h = self.highs
        try:
            check_time_limit(time_limit)
            opts = dict(options)
            # always set: HiGHS keeps an option until it is changed, and a limit from an
            # earlier solve must not cut this one short
            opts["time_limit"] = float(time_limit) if time_limit is not None else float("inf")
            _set_options(h, opts)
            handover_warnings = list(self.solver_warnings)  # said while the LP was passed or changed
            self.solver_warnings.clear()
            clock = float(h.getRunTime())  # HiGHS's run clock adds up over the runs of one Highs
            h.run()
            status, name = status_of(h)
            if status == "error" and self.last_update is not None:
                # a warm start from another instance's basis can fail where a cold solve of the
                # same LP does not (badly scaled figures): solve it again from scratch, once
                h.clearSolver()
                h.run()
                status, name = status_of(h)
            t1 = time.perf_counter()
            timings["solve"] = t1 - t0
            timings["highs_run"] = float(h.getRunTime()) - clock
        except Exception as e:  # a solver failure is a result, not a crash
            timings["solve"] = time.perf_counter() - t0
            timings["total"] = _total(timings)
            return Result(status="error", message=f"{type(e).__name__}: {e}", timings=timings, **meta), None, None
        if status != "optimal":
            msg = MESSAGES.get(status, f"HiGHS stopped with status '{name}'")
            if status == "time_limit" and time_limit is not None:
                msg += f" ({time_limit} s)"
            timings["total"] = _total(timings)
            return Result(status=status, message=msg + f" [HiGHS: {name}]", timings=timings, **meta), None, None
        t1 = time.perf_counter()
        mip = None
        if self.lp.integer is not None:
            idx = self.lp.integer
            sol, obj, mip = fix_integers(h, idx, self.lp.col_lower[idx], self.lp.col_upper[idx])
            if sol is None:
                timings["total"] = _total(timings)
                return Result(status="error", message=mip, timings=timings, **meta), None, None
        else:
            sol = h.getSolution()
            obj = float(h.getInfo().objective_function_value)
        values = self.lp.values(np.asarray(sol.col_value, dtype=float))
        duals = self.lp.duals(np.asarray(sol.row_dual, dtype=float))
        t2 = time.perf_counter()
        timings["read"] = t2 - t1
        layout = self._result_layout()
        columns = layout.columns(values, duals, parameters=self._parameters)
        res = Result(status="optimal", objective=obj, message=MESSAGES["optimal"], timings=timings, **meta)
        if mip is not None:
            res.mip = mip
            res.message += mip_message(mip)
        res.warnings.extend(self.warnings + handover_warnings + self.solver_warnings)
        timings["extract"] = time.perf_counter() - t2
        timings["total"] = _total(timings)
        return res, layout, columns


def solve_direct(instance: Instance, time_limit: float | None = None, tee: bool = False,
                 check_numerics: bool | None = None, **options) -> Result:
    """Solve ``instance`` with HiGHS through the LP arrays (no Pyomo).

    ``options`` go to HiGHS (its option names). Timings (s): ``prepare`` (index tables),
    ``assemble`` (arrays), ``build`` (both), ``handover`` (``passModel``), ``solve`` (HiGHS
    ``run``), ``highs_run`` (HiGHS's own clock), ``read`` (solution arrays), ``extract``
    (result tables), ``total``.
    """
    from rechain.model.errors import InstanceError

    t0 = time.perf_counter()
    try:
        model = DirectModel(instance, tee=tee, check_numerics=check_numerics, **options)
    except InstanceError:
        raise  # the instance itself is wrong: that is for the caller to report
    except Exception as e:  # a refused option or a solver failure is a result, not a crash
        return Result(status="error", message=f"{type(e).__name__}: {e}", solver="highs", instance_name=instance.name,
                      scenario=instance.scenario, timings={"total": time.perf_counter() - t0})
    return model.solve(time_limit=time_limit)
