"""A v1 instance gives exactly the LP (every array, bit for bit) and the objective it gave
before the v2 additions (fingerprints in tests/data/v1_lps.json)."""

import json
import math
from pathlib import Path

from v1_fingerprints import fingerprint, instances

from rechain.model import prepare
from rechain.model.matrix import assemble
from rechain.solvers.direct import solve_direct

RECORDED = json.loads((Path(__file__).parent / "data" / "v1_lps.json").read_text())


def test_every_v1_instance_keeps_its_lp_and_objective():
    seen = 0
    for name, inst in instances():
        want = RECORDED[name]
        lp = assemble(prepare(inst))
        assert (lp.num_row, lp.num_col, lp.num_nz) == (want["rows"], want["cols"], want["nnz"]), name
        assert fingerprint(lp) == want["lp"], f"{name}: the LP changed"
        assert math.isclose(solve_direct(inst).objective, want["objective"], rel_tol=1e-9), name
        seen += 1
    assert seen == len(RECORDED)
