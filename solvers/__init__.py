"""rechain.solvers — solving rechain models, and the command line on top of it."""

from .solve import resolve, solve
from .myopic import MyopicResult, myopic
from .sensitivity import Sensitivity, sensitivity
from .sweep import SweepResult, sweep

__all__ = ["MyopicResult", "Sensitivity", "SweepResult", "myopic", "resolve", "sensitivity", "solve", "sweep"]
