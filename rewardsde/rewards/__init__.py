"""Rewards: the protocol and its input checks, budgeted oracles and their label store."""

from .oracle import BudgetExhaustedError, Oracle
from .protocol import Reward, evaluate_reward
from .store import LabelStore

__all__ = ["BudgetExhaustedError", "LabelStore", "Oracle", "Reward", "evaluate_reward"]
