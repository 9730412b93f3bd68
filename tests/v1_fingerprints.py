"""Fingerprints of the LPs of v1 instances (shipped and generated), recorded before the v2
additions: a v1 instance must keep exactly its LP (``tests/test_v1_unchanged.py``).

    python tests/v1_fingerprints.py > tests/data/v1_lps.json   # to record them again
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SEEDS = list(range(1, 21))


def fingerprint(lp) -> str:
    h = hashlib.sha256()
    for a in (lp.col_cost, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper, lp.matrix.indptr, lp.matrix.indices,
              lp.matrix.data):
        h.update(np.ascontiguousarray(a, dtype=np.float64 if a.dtype.kind == "f" else np.int64).tobytes())
    return h.hexdigest()


V1_COPIES = Path(__file__).resolve().parent / "data" / "v1_instances"


def instances():
    """(name, instance) of every shipped v1 instance, of the v1 editions of the instances since
    recalibrated on v2 (tests/data/v1_instances, as shipped in 0.1), and of the generated seeds."""
    from instance_gen import write_instance
    from rechain import instances as shipped
    from rechain.model import load_instance

    for n in shipped.names():
        inst = load_instance(shipped.path(n))
        if inst.format_version == 1:
            yield n, inst
    for folder in sorted(p for p in V1_COPIES.iterdir() if p.is_dir()):
        yield folder.name, load_instance(folder)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        for s in SEEDS:
            yield f"gen{s}", load_instance(write_instance(Path(tmp) / f"gen{s}", s))
        yield "bench_S", load_instance(generate("S", Path(tmp) / "bench_S"))


def record() -> dict:
    from rechain.model import prepare
    from rechain.model.matrix import assemble
    from rechain.solvers.direct import solve_direct

    out = {}
    for name, inst in instances():
        lp = assemble(prepare(inst))
        r = solve_direct(inst)
        out[name] = {"lp": fingerprint(lp), "rows": lp.num_row, "cols": lp.num_col, "nnz": lp.num_nz, "objective": r.objective}
    return out


if __name__ == "__main__":
    json.dump(record(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
