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
from rechain.model.results import Result, build_result

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
    """Pass ``lp`` to a HiGHS object (a fresh one unless ``h`` is given) with ``passModel``."""
    import highspy

    if h is None:
        h = new_highs()
    m = highspy.HighsLp()
    m.num_col_ = lp.num_col
    m.num_row_ = lp.num_row
    m.col_cost_ = lp.col_cost
    m.col_lower_ = lp.col_lower
    m.col_upper_ = lp.col_upper
    m.row_lower_ = lp.row_lower
    m.row_upper_ = lp.row_upper
    m.offset_ = lp.offset
    a = lp.matrix
    m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    m.a_matrix_.num_col_ = lp.num_col
    m.a_matrix_.num_row_ = lp.num_row
    m.a_matrix_.start_ = a.indptr.astype(np.int32)
    m.a_matrix_.index_ = a.indices.astype(np.int32)
    m.a_matrix_.value_ = a.data
    h.passModel(m)
    return h


def status_of(h) -> tuple[str, str]:
    """rechain status and HiGHS's own name of the model status of ``h``."""
    import highspy

    st = h.getModelStatus()
    name = h.modelStatusToString(st)
    key = next((k for k in HIGHS_STATUS if getattr(highspy.HighsModelStatus, k) == st), None)
    return HIGHS_STATUS.get(key, "error"), name


def solve_direct(instance: Instance, time_limit: float | None = None, tee: bool = False, **options) -> Result:
    """Solve ``instance`` with HiGHS through the LP arrays (no Pyomo).

    ``options`` go to HiGHS (its option names). Timings (s): ``prepare`` (index tables),
    ``assemble`` (arrays), ``build`` (both), ``handover`` (``passModel``), ``solve`` (HiGHS
    ``run``), ``highs_run`` (HiGHS's own clock), ``read`` (solution arrays), ``extract``
    (result tables), ``total``.
    """
    timings: dict[str, float] = {}
    meta = dict(solver="highs", instance_name=instance.name, scenario=instance.scenario)
    t0 = time.perf_counter()
    d = prepare(instance)
    t1 = time.perf_counter()
    lp = assemble(d)
    t2 = time.perf_counter()
    timings.update(prepare=t1 - t0, assemble=t2 - t1, build=t2 - t0)
    try:
        import highspy

        h = new_highs()
        h.setOptionValue("output_flag", bool(tee))
        opts = dict(options)
        if time_limit is not None:
            opts["time_limit"] = float(time_limit)
        for k, v in opts.items():
            # HiGHS refuses an unknown option or a value out of range with a status, not an error
            if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
                raise ValueError(f"HiGHS refused the option {k}={v!r}")
        to_highs(lp, h)
        t3 = time.perf_counter()
        timings["handover"] = t3 - t2
        h.run()
        t4 = time.perf_counter()
        timings["solve"] = t4 - t3
        timings["highs_run"] = float(h.getRunTime())
        status, name = status_of(h)
    except Exception as e:  # a solver failure is a result, not a crash
        timings["total"] = time.perf_counter() - t0
        return Result(status="error", message=f"{type(e).__name__}: {e}", timings=timings, **meta)
    if status != "optimal":
        msg = MESSAGES.get(status, f"HiGHS stopped with status '{name}'")
        if status == "time_limit" and time_limit:
            msg += f" ({time_limit} s)"
        timings["total"] = time.perf_counter() - t0
        return Result(status=status, message=msg + f" [HiGHS: {name}]", timings=timings, **meta)
    t4 = time.perf_counter()
    sol = h.getSolution()
    values = lp.values(np.asarray(sol.col_value, dtype=float))
    duals = lp.duals(np.asarray(sol.row_dual, dtype=float))
    obj = float(h.getInfo().objective_function_value)
    t5 = time.perf_counter()
    timings["read"] = t5 - t4
    res = build_result(d, values, duals, "optimal", obj, message=MESSAGES["optimal"], timings=timings, **meta)
    t6 = time.perf_counter()
    timings["extract"] = t6 - t5
    timings["total"] = t6 - t0
    return res
