"""Progressive hedging: the two-stage plan of :func:`rechain.solvers.stochastic`, found by
solving the scenarios apart (on several processes) instead of as one extensive form.

The engine is mpi-sppy's PH (``mpisppy.opt.ph.PH``), run under ``mpiexec`` (optional extra
``rechain[stochastic]`` and an MPI: ``apt-get install openmpi-bin libopenmpi-dev``). Each
scenario is the Pyomo model of its instance (:func:`rechain.model.build_model`); its
non-anticipative variables are the first-stage columns of the extensive form — new capacity
``new[p, r, v]`` with ``v <= decide_through`` — in the same order in every scenario, and its
first-stage cost is the objective's terms in them (the capex of that capacity). A decision some
scenario cannot take is fixed at 0 in all, as in the extensive form. The subproblems are
solved by HiGHS through Pyomo's ``highs`` interface (``pyomo.contrib.solver``: persistent, and
it takes the quadratic proximal term of PH; ``appsi_highs`` takes linear objectives only).

Each iteration solves every scenario with ``cost_s + W_s . x + rho / 2 |x - xbar|^2`` and moves
the prices ``W_s`` by ``rho (x_s - xbar)``. ``rho`` is cost-proportional (Watson and Woodruff
2011): ``rho_i = rho * |c_i|``, ``c_i`` the first-stage cost of decision ``i`` (a floor of
1e-3 times their mean where one is 0). PH stops when both

- the primal residual ``sum_s p_s |x_s - xbar|_1`` and
- the dual residual ``|xbar - xbar_previous|_1``

are below ``tolerance`` times ``max(1, |xbar|_1)``: ``x_s = xbar`` alone is not enough on an
LP (the scenarios can meet once and part again while the prices ``W`` still move).

The result: ``first_stage`` is ``xbar``; ``objective`` its expected cost, each scenario solved
with the first stage fixed at ``xbar`` (an upper bound of the stochastic optimum, and the cost
of a plan one can carry out); ``bound`` the Lagrangian lower bound of the last prices ``W``.
"""

from __future__ import annotations

import math
import os
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from rechain.model import Instance, load_instance

from .stochastic import _block, _scenario_list, plan_lines

__all__ = ["HedgingResult", "progressive_hedging"]

EXTRA = ("progressive hedging needs mpi-sppy and mpi4py (pip install 'rechain[stochastic]') and an MPI "
         "(Debian: apt-get install openmpi-bin libopenmpi-dev)")


@dataclass
class HedgingResult:
    """Outcome of :func:`progressive_hedging`.

    ``status``: ``converged`` or ``iteration_limit``; ``objective``: the expected cost of the
    consensus plan ``first_stage`` (the first stage fixed, each scenario solved: an upper bound
    of the stochastic optimum); ``bound``: the Lagrangian lower bound of the last prices;
    ``iterations``: PH iterations after the first solve; ``convergence``: the last (primal,
    dual) residuals relative to the plan, ``history`` all of them; ``scenarios``: scenario,
    probability, cost of the consensus plan; ``processes``: per MPI process, (scenarios, seconds
    building, iterating, evaluating). Money as in :func:`rechain.solvers.stochastic`."""

    status: str
    objective: float
    bound: float
    first_stage: pd.DataFrame
    iterations: int
    converged: bool
    convergence: tuple[float, float]
    history: list[tuple[float, float]]
    scenarios: pd.DataFrame
    probabilities: dict[str, float]
    decide_through: int
    workers: int
    rho: float
    tolerance: float
    timings: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)

    @property
    def gap(self) -> float:
        """``objective - bound``, relative to ``|objective|``."""
        return (self.objective - self.bound) / max(abs(self.objective), 1e-12)

    def describe(self) -> list[str]:
        out = [f"progressive hedging over {len(self.probabilities)} scenarios on {self.workers} process(es): "
               f"{'converged' if self.converged else 'stopped at the iteration limit'} after {self.iterations} iterations "
               f"(residuals {self.convergence[0]:.2g}, {self.convergence[1]:.2g}; tolerance {self.tolerance:g})",
               f"expected cost of the consensus plan {self.objective:,.6g}; lower bound {self.bound:,.6g} (gap {self.gap:.2%})"]
        return out + plan_lines(self.first_stage)


def _mpiexec(mpiexec: str | None) -> str:
    exe = mpiexec or shutil.which("mpiexec") or shutil.which("mpirun")
    if not exe or not (os.path.isfile(exe) or shutil.which(exe)):
        raise RuntimeError(f"{EXTRA}: no mpiexec found" + (f" at {mpiexec}" if mpiexec else " on PATH"))
    return exe


def _check_engine() -> None:
    import importlib.util

    missing = [m for m in ("mpisppy", "mpi4py") if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(f"{EXTRA}: {', '.join(missing)} not installed")


def _mpi_env() -> dict:
    env = dict(os.environ)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root without these
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")  # more processes than cores is allowed
    env.setdefault("PRTE_MCA_rmaps_default_mapping_policy", ":oversubscribe")
    env.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")  # a waiting process gives its core up
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def progressive_hedging(instance: Instance | str, scenarios: Iterable[Any], probabilities=None,
                        decide_through: int | None = None, workers: int = 1, rho: float = 1.0,
                        tolerance: float = 1e-4, max_iterations: int = 500, proximal: str = "quadratic",
                        mpiexec: str | None = None, timeout: float | None = None) -> HedgingResult:
    """The two-stage plan of ``instance`` over ``scenarios`` by progressive hedging, on
    ``workers`` MPI processes (``mpiexec -n workers``), each solving its share of the scenarios.

    ``scenarios``, ``probabilities`` and ``decide_through`` as in
    :func:`rechain.solvers.stochastic` (expected cost; no risk measure). ``rho``: the factor of
    the cost-proportional penalty; ``tolerance``: of the relative primal and dual residuals;
    ``max_iterations``: PH iterations at most. ``proximal``: ``"quadratic"`` (the proximal term
    as it is: a QP per scenario, Pyomo's ``highs``) or ``"linear"`` (mpi-sppy's outer
    linearisation of it, cuts added as the iterations go: an LP per scenario, ``appsi_highs``;
    HiGHS's QP solver is slow on the larger instances). ``mpiexec``: the launcher (default: ``mpiexec``
    on PATH). Raises RuntimeError when the engine is missing or a process fails."""

    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    workers = int(workers)
    if workers < 1:
        raise ValueError(f"progressive_hedging: workers must be >= 1, not {workers}")
    if not (rho > 0 and math.isfinite(rho)):
        raise ValueError(f"progressive_hedging: rho must be a positive number, not {rho}")
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise ValueError(f"progressive_hedging: tolerance must be a positive number, not {tolerance}")
    scs, p = _scenario_list(instance, scenarios, probabilities)
    through = instance.first_year if decide_through is None else int(decide_through)
    if not instance.first_year <= through <= instance.last_year:
        raise ValueError(f"decide_through {through} is outside the instance's years "
                         f"{instance.first_year}-{instance.last_year}")
    if proximal not in ("quadratic", "linear"):
        raise ValueError(f"progressive_hedging: proximal is 'quadratic' or 'linear', not {proximal!r}")
    exe = _mpiexec(mpiexec)
    _check_engine()
    # the first-stage decisions every scenario can take (as the extensive form shares them)
    keys = [set(_block(s.label, s.apply(instance), through).keys) for s in scs]
    shared = sorted(set.intersection(*keys), key=lambda k: (str(k[0]), str(k[1]), int(k[2])))
    zero = sorted(set.union(*keys) - set(shared), key=lambda k: (str(k[0]), str(k[1]), int(k[2])))
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rechain-ph-") as tmp:
        # the job goes to the MPI processes as data, never as code: each scenario's instance as
        # an instance folder, the rest as JSON
        folders = []
        for i, sc in enumerate(scs):
            folder = os.path.join(tmp, f"scenario{i}")
            sc.apply(instance).to_folder(folder)
            folders.append(folder)
        job = dict(labels=[s.label for s in scs], folders=folders, probabilities=p.tolist(), through=through,
                   shared=[list(k) for k in shared], zero=[list(k) for k in zero], rho=float(rho), tolerance=float(tolerance),
                   max_iterations=int(max_iterations), proximal=proximal)
        src, dst = os.path.join(tmp, "job.json"), os.path.join(tmp, "result.json")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(job, f, default=_plain)
        cmd = [exe, "-n", str(workers), sys.executable, "-m", "rechain.solvers.hedging", src, dst]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, env=_mpi_env(), timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"progressive hedging did not finish within {timeout} s ({' '.join(cmd)})") from e
        if run.returncode != 0 or not os.path.exists(dst):
            tail = "\n".join((run.stderr.strip() or run.stdout.strip()).splitlines()[-25:])
            raise RuntimeError(f"progressive hedging failed ({' '.join(cmd[:3])} ..., exit code {run.returncode}):\n{tail}")
        with open(dst, encoding="utf-8") as f:
            out = json.load(f)
    t2 = time.perf_counter()
    from rechain.model import prepare

    units = prepare(instance).aux["units"]["process"]
    first_stage = pd.DataFrame({"process": [k[0] for k in shared + zero], "region": [k[1] for k in shared + zero],
                                "year": [int(k[2]) for k in shared + zero], "new": list(out["xbar"]) + [0.0] * len(zero),
                                "unit": [units.get(k[0], "") for k in shared + zero]})
    first_stage = first_stage.sort_values(["process", "region", "year"], kind="stable", ignore_index=True)
    labels = [s.label for s in scs]
    summary = pd.DataFrame({"scenario": labels, "probability": p, "cost": [out["costs"][x] for x in labels]})
    timings = {"prepare": t1 - t0, **out["timings"], "total": t2 - t0}
    return HedgingResult("converged" if out["converged"] else "iteration_limit", out["objective"], out["bound"], first_stage,
                         out["iterations"], out["converged"], tuple(out["history"][-1]) if out["history"] else (math.nan, math.nan),
                         [tuple(h) for h in out["history"]], summary, dict(zip(labels, p.tolist())), through, workers,
                         float(rho), float(tolerance), timings, [tuple(x) for x in out["processes"]])


# ---------------------------------------------------------------------------------------------
# one MPI process (python -m rechain.solvers.hedging JOB RESULT, under mpiexec)
# ---------------------------------------------------------------------------------------------

def _plain(x):
    """Numbers and tuples of numpy in the job and the result, as JSON takes them."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (tuple, set)):
        return list(x)
    raise TypeError(f"not JSON: {type(x).__name__}")


def _scenario_creator(name, job=None, by_label=None):
    import mpisppy.utils.sputils as sputils
    from pyomo.repn import generate_standard_repn

    from rechain.model import build_model

    from rechain.model import load_instance

    m = build_model(load_instance(by_label[name]))
    for k in job["zero"]:
        if k in m.new:
            m.new[k].fix(0.0)
    first = [m.new[k] for k in job["shared"]]
    repn = generate_standard_repn(m.cost.expr, compute_values=True)
    coef = {id(v): float(c) for v, c in zip(repn.linear_vars, repn.linear_coefs)}
    m._rechain_first_cost = [coef.get(id(v), 0.0) for v in first]
    sputils.attach_root_node(m, sum(c * v for c, v in zip(m._rechain_first_cost, first)), first)
    m._mpisppy_probability = job["probabilities"][job["labels"].index(name)]
    return m


def _rho_setter(scenario, rho=1.0):
    c = np.abs(np.asarray(scenario._rechain_first_cost, dtype=float))
    floor = 1e-3 * c.mean() if c.size and c.mean() > 0 else 1.0
    vars_ = scenario._mpisppy_node_list[0].nonant_vardata_list
    return [(id(v), rho * max(ci, floor)) for v, ci in zip(vars_, c)]


def _converger_class():
    from mpisppy import MPI
    from mpisppy.convergers.converger import Converger

    class Residuals(Converger):
        """Primal and dual residuals of PH, relative to the size of the plan."""

        def __init__(self, ph):
            super().__init__(ph)
            self.ph = ph
            self.previous = None
            self.history = []

        def is_converged(self):
            ph = self.ph
            local = np.zeros(1)
            xbar = None
            for s in ph.local_scenarios.values():
                node = s._mpisppy_node_list[0]
                n = s._mpisppy_data.nlens[node.name]
                xbar = np.array([s._mpisppy_model.xbars[node.name, i]._value for i in range(n)])
                x = np.array([v._value for v in node.nonant_vardata_list], dtype=float)
                local[0] += s._mpisppy_probability * np.abs(x - xbar).sum()
            total = np.zeros(1)
            ph.comms["ROOT"].Allreduce(local, total, op=MPI.SUM)
            scale = max(1.0, float(np.abs(xbar).sum()))
            primal = float(total[0]) / scale
            dual = math.inf if self.previous is None else float(np.abs(xbar - self.previous).sum()) / scale
            self.previous = xbar
            self.history.append((primal, dual))
            self.conv = max(primal, dual)
            return self.conv <= ph.options["rechain_tolerance"]

    return Residuals


def _worker(src: str, dst: str) -> None:
    import pyomo.environ as pyo
    from mpisppy import MPI
    from mpisppy.opt.ph import PH

    with open(src, encoding="utf-8") as f:
        job = json.load(f)
    job["shared"] = [(k[0], k[1], int(k[2])) for k in job["shared"]]
    job["zero"] = [(k[0], k[1], int(k[2])) for k in job["zero"]]
    labels = job["labels"]
    by_label = dict(zip(labels, job["folders"]))
    linear = job["proximal"] == "linear"
    options = {"solver_name": "appsi_highs" if linear else "highs", "linearize_proximal_terms": linear,
               "proximal_linearization_tolerance": 1e-6, "PHIterLimit": job["max_iterations"], "defaultPHrho": job["rho"],
               "convthresh": -1.0, "verbose": False, "display_progress": False, "display_timing": False,
               "iter0_solver_options": {"threads": 1}, "iterk_solver_options": {"threads": 1},
               "rho_setter_kwargs": {"rho": job["rho"]}, "rechain_tolerance": job["tolerance"]}
    comm = MPI.COMM_WORLD
    t0 = time.perf_counter()
    ph = PH(options, labels, _scenario_creator, scenario_creator_kwargs={"job": job, "by_label": by_label},
            rho_setter=_rho_setter, ph_converger=_converger_class())
    t1 = time.perf_counter()
    ph.ph_main(finalize=False)
    t2 = time.perf_counter()
    conv = ph.convobject
    converged = bool(conv is not None and conv.history and conv.conv <= job["tolerance"])
    bound = float(ph.post_solve_bound())
    # the consensus plan, fixed, evaluated in every scenario
    s0 = next(iter(ph.local_scenarios.values()))
    node = s0._mpisppy_node_list[0]
    xbar = [float(s0._mpisppy_model.xbars[node.name, i]._value) for i in range(s0._mpisppy_data.nlens[node.name])]
    ph.disable_W_and_prox()
    ph._fix_nonants({node.name: xbar})
    ph.solve_loop(gripe=True, tee=False)  # W and prox stay off (solve_loop's dis_W would turn them back on)
    objective = float(ph.Eobjective())
    costs = {k: float(pyo.value(ph.saved_objectives[k])) for k in ph.local_scenarios}
    t3 = time.perf_counter()
    gathered = comm.gather(costs, root=0)
    busy = comm.gather((len(ph.local_scenarios), t1 - t0, t2 - t1, t3 - t2), root=0)
    if comm.Get_rank() == 0:
        out = dict(xbar=xbar, objective=objective, bound=bound, iterations=int(ph._PHIter), converged=converged,
                   history=list(conv.history) if conv is not None else [], costs={k: v for d in gathered for k, v in d.items()},
                   timings={"build": t1 - t0, "hedging": t2 - t1, "evaluate": t3 - t2}, processes=busy)
        with open(dst + ".part", "w", encoding="utf-8") as f:
            json.dump(out, f, default=_plain)
        os.replace(dst + ".part", dst)


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
