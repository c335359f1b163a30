"""Analytic tasks with exact answers: priors, rewards, tilted targets and distances."""

from .distances import (
    TargetDistance,
    mixture_weight_tv,
    sliced_wasserstein,
    target_distance,
    target_distance_dict,
)
from .mixture import GaussianMixture, TiltedMixture
from .modes import ModeReward
from .optimal import OptimalMixtureControl
from ..brownian import BrownianPrior
from .priors import ExactMixtureEps, GaussianMixturePrior
from .rewards import LinearReward, QuadraticForm, QuadraticReward

__all__ = [
    "BrownianPrior",
    "ExactMixtureEps",
    "GaussianMixture",
    "GaussianMixturePrior",
    "LinearReward",
    "ModeReward",
    "OptimalMixtureControl",
    "QuadraticForm",
    "QuadraticReward",
    "TargetDistance",
    "TiltedMixture",
    "mixture_weight_tv",
    "sliced_wasserstein",
    "target_distance",
    "target_distance_dict",
]
