"""Fuzz the instance loader, scenario changes and command-line values: count unclean endings
and silent wrong answers.

    python benchmarks/fuzz.py [--cases 10000] [--seed 0] [--jobs 2] [--show 10]
    python benchmarks/fuzz.py --changes 10000 [--cases 0]    # changes and CLI values only

Each case is a random valid instance (``tests/instance_gen.py``) damaged by 1-3 mutations
(``tests/fuzz.py``: bad cells, encodings, line ends, headers, truncated or huge files, broken
YAML, broken workbooks). Loading it must either succeed or raise ``InstanceError`` whose
problems each name a file; anything else (another exception, an unlocated problem, a harmless
mutation refused, more than 60 s) is unclean.

With ``--changes N``, N hostile changes (``tests/fuzz_changes.py``: odd values, scales, keys, tables
and settings, several at once, and ``--set``/``--scale`` texts) are applied to random valid
instances; each must give a changed instance or a located error, and each changed instance must
give the same status and objective solved in place on the base model as solved afresh (else it
is a *wrong* answer). Prints the counts; exits 1 if any case was unclean or wrong.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzz  # noqa: E402
import fuzz_changes  # noqa: E402


def _chunk(args):
    seed, n = args
    rng = random.Random(seed)
    counts = collections.Counter()
    bad = []
    for i in range(n):
        with tempfile.TemporaryDirectory(prefix="rechain-fuzz-") as d:
            c = fuzz.case(rng, Path(d), huge_scale=3)
            try:
                out, detail = fuzz.judge(c, timeout=60)
            except AssertionError as e:  # code executed from an instance file
                out, detail = "unclean", str(e)
        counts[out] += 1
        if out == "unclean":
            bad.append((seed, i, c.mutations, detail))
    return counts, bad


def _changes_chunk(args):
    """``n`` change cases (and a fifth as many command-line values) on random instances, one
    instance and one in-place model for every 50 cases."""
    from instance_gen import write_instance
    from rechain.model import load_instance
    from rechain.solvers.direct import DirectModel, solve_direct

    seed, n = args
    rng = random.Random(seed)
    counts = collections.Counter()
    bad = []
    i = 0
    while i < n:
        with tempfile.TemporaryDirectory(prefix="rechain-fuzz-") as d:
            inst = load_instance(write_instance(Path(d) / "gen", rng.randrange(10**6), every_kind=rng.random() < 0.7))
        model = DirectModel(inst)
        for _ in range(min(50, n - i)):
            i += 1
            if getattr(model, "broken", False):
                model = DirectModel(inst)
            ch = fuzz_changes.change_case(rng, inst)
            out, detail = fuzz_changes.judge_change(inst, model, ch, solve_direct)
            counts["change " + out] += 1
            if out in ("unclean", "wrong"):
                bad.append((seed, i, repr(ch)[:300], f"{out}: {detail}"))
            if rng.random() < 0.2:
                kind, text = fuzz_changes.cli_case(rng)
                out, detail = fuzz_changes.judge_cli(inst, kind, text)
                counts["cli " + out] += 1
                if out == "unclean":
                    bad.append((seed, i, f"--{kind} {text!r}", f"unclean: {detail}"))
    return counts, bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=10, help="how many unclean cases to print in full")
    ap.add_argument("--changes", type=int, default=0, help="hostile scenario changes and command-line values to judge")
    a = ap.parse_args(argv)
    failed = 0
    if a.changes:
        failed += _run_changes(a)
    if a.cases:
        failed += _run_loads(a)
    return 1 if failed else 0


def _gather(fn, n: int, size: int, seed: int, jobs: int, what: str, counted) -> tuple[collections.Counter, list]:
    """Run ``n`` cases of ``fn`` in chunks of ``size`` on ``jobs`` processes, with a progress line."""
    chunks = [(seed + k, min(size, n - k * size)) for k in range((n + size - 1) // size)]
    total = collections.Counter()
    bad = []
    with mp.Pool(jobs) as pool:
        for counts, b in pool.imap_unordered(fn, chunks):
            total.update(counts)
            bad.extend(b)
            print(f"\r{counted(total)}/{n} {what}, {len(bad)} unclean or wrong", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return total, bad


def _run_changes(a) -> int:
    t = time.perf_counter()
    total, bad = _gather(_changes_chunk, a.changes, 200, a.seed * 1_000_033, a.jobs, "changes",
                         lambda c: sum(v for k, v in c.items() if k.startswith("change")))
    for seed, i, what, detail in bad[: a.show]:
        print(f"--- chunk seed {seed}, case {i}: {what}\n{detail}\n")
    unclean = sum(v for k, v in total.items() if k.endswith("unclean"))
    wrong = total["change wrong"]
    print("changes: " + "  ".join(f"{k}: {v}" for k, v in sorted(total.items())))
    print(f"changes judged: {sum(v for k, v in total.items() if k.startswith('change'))}  unclean endings: {unclean}  "
          f"silent wrong answers: {wrong}  ({time.perf_counter() - t:.0f} s)")
    return unclean + wrong


def _run_loads(a) -> int:
    t = time.perf_counter()
    total, bad = _gather(_chunk, a.cases, 100, a.seed * 1_000_003, a.jobs, "cases", lambda c: sum(c.values()))
    for seed, i, muts, detail in bad[: a.show]:
        print(f"--- chunk seed {seed}, case {i}: {muts}\n{detail}\n")
    kinds = collections.Counter(d.splitlines()[0][:100] if d else "?" for *_, d in bad)
    for k, n in kinds.most_common():
        print(f"{n:6d}  {k}")
    print(f"cases: {sum(total.values())}  loaded: {total['loaded']}  clean errors: {total['clean']}  "
          f"unclean: {total['unclean']}  ({time.perf_counter() - t:.0f} s)")
    return total["unclean"]


if __name__ == "__main__":
    sys.exit(main())
