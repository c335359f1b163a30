"""Analytic tasks with exact answers: priors, rewards, tilted targets and distances."""

from ..brownian import BrownianPrior
from .distances import TargetDistance, sliced_wasserstein, target_distance, target_distance_dict
from .mixture import GaussianMixture, TiltedMixture
from .modes import ModeReward
from .optimal import OptimalMixtureControl
from .priors import GaussianMixturePrior
from .rewards import LinearReward, QuadraticForm, QuadraticReward
from .round_optima import RoundOptima, round_optima

__all__ = [
    "BrownianPrior",
    "GaussianMixture",
    "GaussianMixturePrior",
    "LinearReward",
    "ModeReward",
    "OptimalMixtureControl",
    "QuadraticForm",
    "QuadraticReward",
    "RoundOptima",
    "TargetDistance",
    "TiltedMixture",
    "round_optima",
    "sliced_wasserstein",
    "target_distance",
    "target_distance_dict",
]
