"""Fuzz the instance loader: mutate random valid instances and count unclean endings.

    python benchmarks/fuzz.py [--cases 10000] [--seed 0] [--jobs 2] [--show 10]

Each case is a random valid instance (``tests/instance_gen.py``) damaged by 1-3 mutations
(``tests/fuzz.py``: bad cells, encodings, line ends, headers, truncated or huge files, broken
YAML, broken workbooks). Loading it must either succeed or raise ``InstanceError`` whose
problems each name a file; anything else (another exception, an unlocated problem, a harmless
mutation refused, more than 60 s) is unclean. Prints the counts; exits 1 if any case was unclean.
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=10, help="how many unclean cases to print in full")
    a = ap.parse_args(argv)
    size = 100
    chunks = [(a.seed * 1_000_003 + k, min(size, a.cases - k * size)) for k in range((a.cases + size - 1) // size)]
    t = time.perf_counter()
    total = collections.Counter()
    bad = []
    with mp.Pool(a.jobs) as pool:
        for counts, b in pool.imap_unordered(_chunk, chunks):
            total.update(counts)
            bad.extend(b)
            done = sum(total.values())
            print(f"\r{done}/{a.cases} cases, {total['unclean']} unclean", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for seed, i, muts, detail in bad[: a.show]:
        print(f"--- chunk seed {seed}, case {i}: {muts}\n{detail}\n")
    kinds = collections.Counter(d.splitlines()[0][:100] if d else "?" for *_, d in bad)
    for k, n in kinds.most_common():
        print(f"{n:6d}  {k}")
    print(f"cases: {sum(total.values())}  loaded: {total['loaded']}  clean errors: {total['clean']}  "
          f"unclean: {total['unclean']}  ({time.perf_counter() - t:.0f} s)")
    return 1 if total["unclean"] else 0


if __name__ == "__main__":
    sys.exit(main())
