"""rechain.model — the instance contract, the chain graph, the LP formulation and its results.

This package never imports :mod:`rechain.solvers`: solving sits on top of it.
"""

from .data import ModelData, crf, discount_factors, prepare
from .errors import InstanceError, Problem
from .formulation import build_model, update_parameters
from .graph import chain_graph, check_chain, downstream, intensity, upstream
from .instance import Instance, load_instance
from .results import Result, build_result

__all__ = [
    "Instance",
    "InstanceError",
    "ModelData",
    "Problem",
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
