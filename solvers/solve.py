"""Solving a rechain model: HiGHS through Pyomo's persistent interface (highspy), or any
other Pyomo solver by name. Nothing is written to files."""

from __future__ import annotations

import time

import numpy as np

from rechain.model.instance import Instance
from rechain.model.results import Result, build_result

from . import pyomo_highs

# statuses and their messages are those of the direct path, so both paths say the same
from .direct import MESSAGES as _MESSAGES, check_time_limit, fix_integers, mip_message, status_of  # noqa: E402

#: values of HiGHS's own option ``solver``: asked for as rechain's ``solver``, they are a mistake
HIGHS_SOLVERS = ("simplex", "ipm", "pdlp", "choose", "hipo", "ipx")


def highs_options(highs: dict | None, options: dict) -> dict:
    """HiGHS options given as ``highs={...}`` and as keyword arguments (these win), as one dict."""
    if highs is not None and not isinstance(highs, dict):
        raise ValueError(f"highs= is a dict of HiGHS option names and values, e.g. {{'solver': 'ipm'}}, not {highs!r}")
    return {**(highs or {}), **options}


def solver_settings(solver: str, method: str, time_limit, highs: dict | None, options: dict) -> tuple[float | None, dict]:
    """``(time_limit, options)`` of a solve, checked: ``method`` and ``solver`` (a value of
    HiGHS's own option ``solver`` is a mistake), ``highs={...}`` and keyword ``options`` as one
    dict (:func:`highs_options`). HiGHS's option ``time_limit`` among them is the solve's
    ``time_limit`` (given both ways, the two must agree). ValueError otherwise."""
    if method not in ("auto", "direct", "pyomo"):
        raise ValueError(f"method {method!r}: expected auto, direct or pyomo")
    if solver in HIGHS_SOLVERS:
        raise ValueError(f"solver {solver!r} is a value of HiGHS's own option 'solver': pass highs={{'solver': {solver!r}}} "
                         "(rechain's solver= names the program: 'highs' or another Pyomo solver)")
    options = highs_options(highs, options)
    if solver == "highs" and "time_limit" in options:
        given = check_time_limit(options.pop("time_limit"))
        if time_limit is not None and check_time_limit(time_limit) != given:
            raise ValueError(f"time_limit={time_limit!r} and the HiGHS option time_limit={given!r} differ: give one")
        time_limit = given
    return time_limit, options


def solve(instance_or_model, solver: str = "highs", time_limit: float | None = None, tee: bool = False,
          method: str = "auto", check_numerics: bool | None = None, highs: dict | None = None, **options) -> Result:
    """Solve an :class:`Instance` (built here) or a model from :func:`build_model`.

    ``method``: ``"direct"`` hands the LP arrays of :mod:`rechain.model.matrix` to HiGHS
    without Pyomo (:mod:`rechain.solvers.direct`; the same LP, optimum and duals, built much
    faster); ``"pyomo"`` builds the Pyomo model; ``"auto"`` (default) is direct for an
    Instance solved with HiGHS and Pyomo otherwise (a built model, another solver).

    ``solver`` is ``"highs"`` (persistent HiGHS via highspy: re-solving the same model after
    :func:`update_parameters` reuses the solver model, warm-started) or the name of any Pyomo
    solver installed on the machine. HiGHS's own options go in ``highs={...}`` (e.g.
    ``highs={"solver": "ipm", "threads": 2}``; HiGHS's option ``solver`` cannot clash with rechain's
    ``solver``) or as keyword arguments (option names of HiGHS, or of the other solver).
    The status is one of ``optimal, infeasible, unbounded, time_limit, error``.

    ``check_numerics``: add the warnings of :func:`rechain.model.numerics.report` (badly
    scaled rows, coefficients tiny against their row) to ``Result.warnings``; ``None`` (the
    default) checks LPs of up to 2,000,000 non-zeros, where it costs little.
    """
    time_limit, options = solver_settings(solver, method, time_limit, highs, options)
    if isinstance(instance_or_model, Instance) and solver == "highs" and method in ("auto", "direct"):
        from .direct import solve_direct

        return solve_direct(instance_or_model, time_limit=time_limit, tee=tee, check_numerics=check_numerics, **options)
    if method == "direct":
        raise ValueError("method 'direct' needs an Instance and solver 'highs' (a built model is solved through Pyomo)")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(instance_or_model, Instance):
        from rechain.model.formulation import build_model

        inst = instance_or_model
        m = build_model(inst)
        timings["build"] = time.perf_counter() - t0
    else:
        m = instance_or_model
        inst = m._rechain_instance
    meta = dict(solver=solver, instance_name=inst.name, scenario=inst.scenario)
    try:
        check_time_limit(time_limit)
        if solver == "highs":
            status, obj, values, duals, msg, sub = _solve_highs(m, time_limit, tee, options)
        else:
            status, obj, values, duals, msg, sub = _solve_generic(m, solver, time_limit, tee, options)
    except Exception as e:  # a solver failure is a result, not a crash
        timings["total"] = time.perf_counter() - t0
        return Result(status="error", message=f"{type(e).__name__}: {e}", timings=timings, **meta)
    mip = sub.pop("mip", None)
    timings.update(sub)
    t1 = time.perf_counter()
    res = build_result(m._rechain_data, values, duals, status, obj, message=msg, timings=timings, **meta)
    if mip is not None:
        res.mip = mip
    if res.ok:
        from .direct import numerics_warnings

        d = m._rechain_data
        res.warnings.extend(numerics_warnings(d, _nonzeros(d), check_numerics))
    timings["extract"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    return res


def _nonzeros(d) -> int:
    """The LP's non-zeros, counted from its parts (an entry a row holds twice is counted twice)."""
    return sum(p.size for er in d.rows.values() for p in er.terms)


def resolve(model, instance: Instance, **kw) -> Result:
    """Update the mutable parameters of ``model`` to ``instance`` and solve again (no rebuild)."""
    from rechain.model.formulation import update_parameters

    update_parameters(model, instance)
    return solve(model, **kw)


def _check_options(options: dict) -> None:
    """Refuse an option HiGHS does not know or a value out of its range (HiGHS itself only
    answers with a status, which Pyomo's interface does not look at)."""
    from .direct import _set_options, new_highs

    _set_options(new_highs(), options)


def _solve_highs(m, time_limit, tee, options):
    sub = {}
    opt = pyomo_highs.persistent(m)
    t = time.perf_counter()
    opts = {"output_flag": bool(tee)}
    opts.update(options)
    # always set: the persistent HiGHS keeps an option until it is changed, and a limit from
    # an earlier solve of this model must not cut this one short
    opts["time_limit"] = float(time_limit) if time_limit is not None else float("inf")
    _check_options(opts)
    try:
        opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                  tee=tee, solver_options=opts)
    except Exception:
        pyomo_highs.forget(m)  # HiGHS may hold part of the changes: never re-solve that model
        raise
    sub["solve"] = time.perf_counter() - t
    h = pyomo_highs.highs(opt)
    sub["highs_run"] = float(h.getRunTime())
    status, name = status_of(h)
    if status != "optimal":
        msg = _MESSAGES.get(status, f"HiGHS stopped with status '{name}'")
        if status == "time_limit" and time_limit is not None:
            msg += f" ({time_limit} s)"
        return status, None, {}, {}, msg + f" [HiGHS: {name}]", sub
    t = time.perf_counter()
    d = m._rechain_data
    columns = pyomo_highs.family_columns(opt, m, d)
    whole = [idx[idx >= 0] for f, idx in columns.items() if d.vars[f].family.integer]
    whole = np.concatenate(whole) if whole else np.zeros(0, dtype=np.int64)
    mip = None
    if len(whole):  # a MILP: prices from the LP with the whole-number decisions fixed
        lp = h.getLp()
        sol, obj, mip = fix_integers(h, whole, np.asarray(lp.col_lower_)[whole], np.asarray(lp.col_upper_)[whole])
        if sol is None:
            return "error", None, {}, {}, mip, sub
    else:
        sol = h.getSolution()
    values = {f: pyomo_highs.take(sol.col_value, idx) for f, idx in columns.items()}
    # a deactivated row (e.g. a family dropped to study its effect) has no dual: 0
    duals = {f: pyomo_highs.take(sol.row_dual, idx) for f, idx in pyomo_highs.family_rows(opt, m, d).items()}
    sub["read"] = time.perf_counter() - t
    if mip is not None:
        sub["mip"] = mip
        return "optimal", obj, values, duals, _MESSAGES["optimal"] + mip_message(mip), sub
    obj = float(h.getInfo().objective_function_value)
    return "optimal", obj, values, duals, _MESSAGES["optimal"], sub


def _solve_generic(m, solver, time_limit, tee, options):
    sub = {}
    import logging

    import pyomo.environ as pyo

    quiet = logging.getLogger("pyomo")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # an unknown name makes Pyomo log a traceback
    try:
        opt = pyo.SolverFactory(solver)
        ok = opt is not None and opt.available(exception_flag=False)
    except Exception:
        ok = False
    finally:
        quiet.setLevel(level)
    if not ok:
        raise RuntimeError(f"solver '{solver}' is not available on this machine")
    if not hasattr(m, "dual"):
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    if time_limit is not None:
        options.setdefault("time_limit" if "highs" in solver else "timelimit", time_limit)
    t = time.perf_counter()
    res = opt.solve(m, tee=tee, options=options, load_solutions=False)
    sub["solve"] = time.perf_counter() - t
    tc = str(res.solver.termination_condition)
    status = {"optimal": "optimal", "infeasible": "infeasible", "unbounded": "unbounded",
              "infeasibleOrUnbounded": "infeasible", "maxTimeLimit": "time_limit"}.get(tc, "error")
    if status != "optimal":
        return status, None, {}, {}, _MESSAGES.get(status, f"{solver} stopped: {tc}"), sub
    m.solutions.load_from(res)
    d = m._rechain_data
    values = {}
    for name, ev in d.vars.items():
        var = getattr(m, name)
        out = np.zeros(ev.size)
        for i, k in zip(ev.members.tolist(), d.keys(ev.family.table, ev.members)):
            out[i] = var[k[0] if len(k) == 1 else k].value or 0.0
        values[name] = out
    duals = {}
    for name, er in d.rows.items():
        con = getattr(m, name)
        out = np.zeros(er.size)
        for i, k in zip(er.members.tolist(), d.keys(er.family.table, er.members)):
            key = k[0] if len(k) == 1 else k
            if key in con:
                out[i] = m.dual.get(con[key], 0.0)
        duals[name] = out
    obj = float(pyo.value(m.cost))
    return "optimal", obj, values, duals, _MESSAGES["optimal"], sub
