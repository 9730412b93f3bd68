"""rechain.model — the instance contract, the chain graph, the LP formulation and its results.

This package never imports :mod:`rechain.solvers`: solving sits on top of it.
"""

from .data import ModelData, crf, discount_factors, prepare
from .errors import InstanceError, Problem, RebuildRequired
from .instance import Instance, load_instance
from .results import Result, build_result

__all__ = [
    "Instance",
    "InstanceError",
    "ModelData",
    "Problem",
    "RebuildRequired",
    "Result",
    "build_model",
    "build_result",
    "chain_graph",
    "check_chain",
    "downstream",
    "intensity",
    "upstream",
    "crf",
    "discount_factors",
    "load_instance",
    "prepare",
    "update_parameters",
]

# Pyomo (the formulation) and networkx (the graph) load on first use, so that solving on the
# direct path and the command line start without them
_LAZY = {"build_model": "formulation", "update_parameters": "formulation", "chain_graph": "graph",
         "check_chain": "graph", "downstream": "graph", "intensity": "graph", "upstream": "graph"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
