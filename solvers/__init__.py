"""rechain.solvers — solving rechain models, and the command line on top of it."""

from .solve import resolve, solve
from .sweep import SweepResult, sweep

__all__ = ["SweepResult", "resolve", "solve", "sweep"]
