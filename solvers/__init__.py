"""rechain.solvers — solving rechain models, and the command line on top of it."""

import sys
import types

from .solve import resolve, solve

# the rest loads on first use (they import Pyomo), so a plain solve starts quickly
_LAZY = {"MyopicResult": "myopic", "myopic": "myopic", "Sensitivity": "sensitivity", "sensitivity": "sensitivity",
         "SweepResult": "sweep", "sweep": "sweep",
         "StochasticResult": "stochastic", "stochastic": "stochastic",
         "HedgingResult": "hedging", "progressive_hedging": "hedging",
         "AlternativesResult": "alternatives", "alternatives": "alternatives",
         "PriceDrivers": "drivers", "PriceExplainer": "drivers", "price_drivers": "drivers"}


class _CallableModule(types.ModuleType):
    """A module that calls its function of the same name: ``rechain.solvers.sweep(...)`` works
    whether or not ``rechain.solvers.sweep`` (the module) was imported first."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rsplit(".", 1)[1])(*args, **kwargs)


def callable_module(name: str) -> None:
    sys.modules[name].__class__ = _CallableModule


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["AlternativesResult", "HedgingResult", "MyopicResult", "PriceDrivers", "PriceExplainer", "Sensitivity", "StochasticResult", "SweepResult", "myopic", "alternatives", "price_drivers", "progressive_hedging", "resolve", "sensitivity", "solve", "stochastic", "sweep"]
