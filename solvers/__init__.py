"""rechain.solvers — solving rechain models, and the command line on top of it."""

from .solve import resolve, solve

# the rest loads on first use (they import Pyomo), so a plain solve starts quickly
_LAZY = {"MyopicResult": "myopic", "myopic": "myopic", "Sensitivity": "sensitivity", "sensitivity": "sensitivity",
         "SweepResult": "sweep", "sweep": "sweep"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["MyopicResult", "Sensitivity", "SweepResult", "myopic", "resolve", "sensitivity", "solve", "sweep"]
