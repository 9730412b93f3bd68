"""One gate for every value, and every HiGHS call checked.

A number or name that comes in through any door (a file, instance.yaml, a named scenario,
``with_changes``, ``--set``/``--scale``, a sweep, the in-place parameter map) passes the same
type and range checks and gets a located error, never an exception; a change HiGHS refuses
leaves the model it was made on as it was, so no later solve returns a stale optimum."""

from __future__ import annotations

import highspy
import pytest

from rechain import instances
from rechain.model import load_instance
from rechain.solvers.direct import DirectModel, solve_direct


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


EV = {"commodity": "ev"}
DEARER = {"table": "processes", "where": {}, "column": "variable_cost", "scale": 3}


# --------------------------------------------------------------------------------------------
# HiGHS's statuses
# --------------------------------------------------------------------------------------------


class _Refusing:
    """A HiGHS object that takes the row bounds it is given, then answers kError: what HiGHS
    does when one value of a call is refused after others were taken."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def changeRowsBounds(self, *args):
        self.real.changeRowsBounds(*args)
        return highspy.HighsStatus.kError


def test_a_refused_update_leaves_the_model_of_the_instance_it_was(toy):
    m = DirectModel(toy, check_numerics=False)
    base = m.solve().objective
    changed = toy.with_changes([DEARER, {"table": "demand", "where": EV, "column": "quantity", "scale": 2}])
    real = m.highs
    m.highs = _Refusing(real)
    with pytest.raises(RuntimeError, match="HiGHS refused changeRowsBounds"):
        m.update(changed)
    m.highs = real
    assert m.instance is toy
    again = m.solve()  # the costs HiGHS took before the refusal must not linger
    assert again.status == "optimal" and again.objective == pytest.approx(base, rel=1e-9)
    # the same change, taken, gives the optimum of a fresh solve
    assert m.solve(changed).objective == pytest.approx(solve_direct(changed).objective, rel=1e-9)
