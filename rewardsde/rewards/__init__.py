"""Rewards: the protocol and its input checks, budgeted oracles with their label store,
and reward models with uncertainty."""

from .models import BootstrapReward, GreedyReward, RewardModel, ThompsonReward, UCBReward
from .learning import learn_reward
from .lab import LabOracle, LabelsPending, import_labels
from .oracle import BudgetExhaustedError, Oracle
from .protocol import Reward, evaluate_reward
from .store import LabelStore

__all__ = [
    "BootstrapReward",
    "BudgetExhaustedError",
    "GreedyReward",
    "LabOracle",
    "LabelsPending",
    "LabelStore",
    "Oracle",
    "Reward",
    "RewardModel",
    "ThompsonReward",
    "UCBReward",
    "evaluate_reward",
    "import_labels",
    "learn_reward",
]
