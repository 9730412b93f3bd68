"""rechain.solvers — solving rechain models, and the command line on top of it."""

from .solve import resolve, solve

__all__ = ["resolve", "solve"]
