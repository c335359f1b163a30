"""DDP-correct metrics and TensorBoard logging (``rewardsde.callbacks``)."""

from .best_reward import BestReward
from .coverage import BonusCoverage
from .diversity import Diversity
from .evaluation import SampleEvaluation
from .exact_target import ExactTargetReport, exact_report, format_table
from .feasibility import FeasibilityRate
from .hamming import HammingDiversity
from .kl_to_prior import KLToPrior
from .molecules import MoleculeMetrics
from .overoptimization import RewardOveroptimization
from .saved_domain import EhrlichFeasibility, MosesMetrics
from .target_distance import TargetDistanceMetric

__all__ = [
    "BestReward",
    "BonusCoverage",
    "Diversity",
    "EhrlichFeasibility",
    "ExactTargetReport",
    "FeasibilityRate",
    "HammingDiversity",
    "KLToPrior",
    "MoleculeMetrics",
    "MosesMetrics",
    "RewardOveroptimization",
    "SampleEvaluation",
    "TargetDistanceMetric",
    "exact_report",
    "format_table",
]
