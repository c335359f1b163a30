"""Reward models with uncertainty: ensembles with UCB, bootstrap, Thompson and greedy rewards."""

from .base import RewardModel
from .bootstrap import BootstrapReward
from .cnn_heads import CNNHeads
from .fit import FitReport, fit_heads
from .greedy import GreedyReward
from .heads import Heads
from .thompson import ThompsonReward
from .ucb import UCBReward

__all__ = [
    "BootstrapReward",
    "CNNHeads",
    "FitReport",
    "GreedyReward",
    "Heads",
    "RewardModel",
    "ThompsonReward",
    "UCBReward",
    "fit_heads",
]
