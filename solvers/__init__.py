"""rechain.solvers — solving rechain models, and the command line on top of it."""

from .solve import resolve, solve
from .sensitivity import Sensitivity, sensitivity
from .sweep import SweepResult, sweep

__all__ = ["Sensitivity", "SweepResult", "resolve", "sensitivity", "solve", "sweep"]
