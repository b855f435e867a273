"""Honest offline evaluation: temporal split, protocols, metrics, reports."""

from recsys.evaluation.experiment import EvaluationResult, MethodResult, evaluate_methods
from recsys.evaluation.protocols import PROTOCOLS, Targets, build_targets

__all__ = [
    "PROTOCOLS",
    "EvaluationResult",
    "MethodResult",
    "Targets",
    "build_targets",
    "evaluate_methods",
]
