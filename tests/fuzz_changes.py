"""A mutator of scenario changes and command-line values, and the judge of what they may do.

A change may come through a scenario of ``instance.yaml``, ``--set``/``--scale`` text, a sweep
axis or ``with_changes``. Applying one may end in exactly two ways: a changed instance, or
:class:`rechain.model.InstanceError` whose problems each name a file (the CLI's parser: its own
``Fail`` with a message). Anything else is an *unclean* ending. A changed instance is then solved
twice: in place, on the base instance's model (``DirectModel.update``), and afresh; the two must
agree (same status, same objective to 1e-6 where optimal), or the in-place path must refuse the
change (``RebuildRequired``). A disagreement is a *silent wrong answer*.

``change_case(rng, inst)`` draws one change (or a list of them); ``judge_change(inst, model, ch)``
returns ``(outcome, detail)`` with outcome one of ``applied``, ``refused`` (a clean error),
``warned`` (figures beyond 1e15, which the instance and the results warn about, and on which two
routes to one LP may end differently), ``unclean`` or ``wrong``.
"""

from __future__ import annotations

import math
import random
import traceback

import numpy as np

from rechain.model import InstanceError, RebuildRequired
from rechain.model.schema import TABLES

ODD_VALUES = [0, -0.0, 1, -1, 2.5, 1e-300, 5e-324, 1e15, 1e16, 1e19, 1e20, 1e25, 1e300, 1e308, -1e308, float("inf"),
              float("-inf"), float("nan"), 10**30, -(10**30), 2**63, True, False, None, "", "x", "1,5", "1e5", "名字", [],
              {}, [1, 2], {"a": 1}, "NA", "*", "nan"]
ODD_SCALES = [0, -1, -2.5, 1e-9, 0.5, 1, 1.3, 2, 1e6, 1e10, 1e20, 1e25, 1e300, float("inf"), float("nan"), "2", None, [], True]
SETTINGS = ["discount_rate", "unmet_penalty", "base_year"]
KEYS = ["table", "where", "column", "scale", "set"]


def _pick_where(rng, df, names):
    if not len(df) or not names or rng.random() < 0.4:
        return {}
    row = df.iloc[rng.randrange(len(df))]
    where = {}
    for c in rng.sample(names, rng.randint(1, len(names))):
        v = row[c]
        where[c] = v if rng.random() < 0.9 else rng.choice(["nope", 12345, None, "*"])
    return where


def change_case(rng: random.Random, inst) -> list[dict] | dict:
    """One hostile change (sometimes two, or one of a wrong shape)."""
    r = rng.random()
    if r < 0.08:
        return {"table": "instance", "column": rng.choice(SETTINGS + ["years", "name", "nope"]),
                rng.choice(["set", "scale"]): rng.choice(ODD_VALUES + [0.06, 0.5, -0.4, 1900, 2200, 5000, 99999])}
    if r < 0.12:  # a wrong shape
        ch = {k: rng.choice(["demand", "quantity", {}, None, 1]) for k in rng.sample(KEYS, rng.randint(0, 5))}
        if rng.random() < 0.5:
            ch[rng.choice(["_label", "_line", "extra", ""])] = 1
        return ch
    tables = [t for t in TABLES if len(inst.tables[t])]
    table = rng.choice(tables)
    schema = TABLES[table]
    df = inst.tables[table]
    cols = schema.column_names
    numeric = [c.name for c in schema.columns if c.type in ("int", "float")]
    names = [c.name for c in schema.columns if c.type == "name"]
    column = rng.choice(numeric) if numeric and rng.random() < 0.85 else rng.choice(cols)
    where = _pick_where(rng, df, names + (["year"] if "year" in cols else []))
    if rng.random() < 0.55:
        ch = {"table": table, "where": where, "column": column, "scale": rng.choice(ODD_SCALES)}
    else:
        ch = {"table": table, "where": where, "column": column, "set": rng.choice(ODD_VALUES)}
    if rng.random() < 0.1:
        return [ch, change_case(rng, inst)]
    return ch


def _problems_located(e: InstanceError) -> str | None:
    if not e.problems:
        return "InstanceError without problems"
    for p in e.problems:
        if not isinstance(p.file, str) or not p.file.strip():
            return f"a problem without a file: {p!r}"
        if not isinstance(p.message, str) or not p.message.strip():
            return f"a problem without a message: {p!r}"
        str(p)
    return None


def judge_change(inst, model, ch, fresh_solve) -> tuple[str, str]:
    """Apply ``ch`` to ``inst``; solve the result in place on ``model`` (a DirectModel of
    ``inst``, put back to ``inst`` afterwards) and afresh with ``fresh_solve``; compare."""
    try:
        new = inst.with_changes(ch if isinstance(ch, list) else [ch])
    except InstanceError as e:
        bad = _problems_located(e)
        return ("unclean", bad) if bad else ("refused", str(e).splitlines()[-1][:120])
    except BaseException as e:  # noqa: BLE001
        return "unclean", f"with_changes raised {type(e).__name__}: {e}\n{traceback.format_exc()}"
    try:
        fresh = fresh_solve(new)
    except InstanceError as e:  # a policy that can never hold, found while preparing: a clean refusal
        bad = _problems_located(e)
        return ("unclean", bad) if bad else ("refused", "prepare: " + str(e).splitlines()[-1][:100])
    except BaseException as e:  # noqa: BLE001
        return "unclean", f"a fresh solve raised {type(e).__name__}: {e}\n{traceback.format_exc()}"
    try:
        try:
            model.update(new)
        except RebuildRequired:
            return "applied", "rebuild"
        except InstanceError as e:
            bad = _problems_located(e)
            return ("unclean", bad) if bad else ("refused", "in place: " + str(e).splitlines()[-1][:100])
        except (RuntimeError, ValueError) as e:  # HiGHS refused a number: an error, never a stale optimum
            if fresh.status == "optimal":
                return "wrong", f"the in-place update failed ({e}) where a fresh solve is optimal"
            return "applied", "in place refused, fresh not optimal"
        res = model.solve()
        # figures beyond 1e15 swamp every other number: the instance and the results say so, and
        # HiGHS may then answer differently on two routes to the same LP (not silent: warned)
        warned = any("above 1e+15" in str(getattr(w, "message", w)) for w in list(new.warnings) + fresh.warnings + res.warnings)
        if res.status != fresh.status:
            if warned:
                return "warned", f"in place {res.status}, fresh {fresh.status}"
            if {res.status, fresh.status} <= {"error", "time_limit", "unbounded", "infeasible"}:
                return "applied", f"both not optimal ({res.status}, {fresh.status})"
            return "wrong", f"in place {res.status} ({res.message}), fresh {fresh.status} ({fresh.message})"
        if res.status == "optimal":
            a, b = res.objective, fresh.objective
            if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6):
                return ("warned" if warned else "wrong"), f"in place {a!r}, fresh {b!r}"
        return "applied", res.status
    except BaseException as e:  # noqa: BLE001
        return "unclean", f"the in-place solve raised {type(e).__name__}: {e}\n{traceback.format_exc()}"
    finally:
        try:
            model.update(inst)
        except Exception:  # noqa: BLE001 — the caller rebuilds the model when it cannot go back
            model.broken = True


CLI_TEXTS = ["demand.quantity=1", "demand.quantity[commodity=c0]=2", "demand.quantity[commodity=c0;year=2021]=1e25",
             "processes.capex=-1", "processes.lifetime=13000", "instance.discount_rate=1e-17", "instance.base_year=99999",
             "demand.year=2021", "capacity.process=p0", "x.y=1", "demand=1", "demand.quantity[commodity]=1",
             "demand.quantity[commodity=c0=1", "demand.quantity=", "=1", "demand.quantity=nan", "demand.quantity=inf",
             "demand.quantity=1e400", "demand.quantity=" + "9" * 400, "demand.quantity[region=*]=1", "policies.value=1,5"]


def cli_case(rng: random.Random) -> tuple[str, str]:
    """A --set or --scale text: one of the hostile ones, or one mangled at random."""
    text = rng.choice(CLI_TEXTS)
    if rng.random() < 0.3:
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(["[", "]", ";", "=", "*", " ", "\u2028", "\x00", "名"]) + text[i:]
    return rng.choice(["set", "scale"]), text


def judge_cli(inst, kind: str, text: str) -> tuple[str, str]:
    """Parse ``text`` as ``--set``/``--scale`` and apply it: a Fail (exit 2), an InstanceError
    with located problems or a changed instance; nothing else."""
    from rechain.solvers.cli import Fail, parse_change

    try:
        ch = parse_change(text, kind)
    except Fail as e:
        return "refused", str(e)[:120]
    except BaseException as e:  # noqa: BLE001
        return "unclean", f"parse_change raised {type(e).__name__}: {e}"
    try:
        inst.with_changes([ch], where_from=f"--{kind} {text!r}")
    except InstanceError as e:
        bad = _problems_located(e)
        return ("unclean", bad) if bad else ("refused", str(e).splitlines()[-1][:120])
    except BaseException as e:  # noqa: BLE001
        return "unclean", f"with_changes raised {type(e).__name__}: {e}"
    return "applied", ""
