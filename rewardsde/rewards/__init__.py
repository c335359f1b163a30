"""Rewards: the protocol and its input checks, budgeted oracles with their label store,
and reward models with uncertainty."""

from .models import BootstrapReward, GreedyReward, RewardModel, ThompsonReward, UCBReward
from .learning import learn_reward
from .oracle import BudgetExhaustedError, Oracle
from .protocol import Reward, evaluate_reward
from .store import LabelStore

__all__ = [
    "BootstrapReward",
    "BudgetExhaustedError",
    "GreedyReward",
    "LabelStore",
    "Oracle",
    "Reward",
    "RewardModel",
    "ThompsonReward",
    "UCBReward",
    "evaluate_reward",
    "learn_reward",
]
