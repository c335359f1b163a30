"""DDP-correct metrics and TensorBoard logging (``rewardsde.callbacks``)."""

from .diversity import Diversity
from .evaluation import SampleEvaluation
from .exact_target import ExactTargetReport, exact_report, format_table
from .kl_to_prior import KLToPrior
from .overoptimization import RewardOveroptimization
from .target_distance import TargetDistanceMetric

__all__ = [
    "Diversity",
    "ExactTargetReport",
    "KLToPrior",
    "RewardOveroptimization",
    "SampleEvaluation",
    "TargetDistanceMetric",
    "exact_report",
    "format_table",
]
