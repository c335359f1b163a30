"""Rewards: the protocol and its input checks."""

from .protocol import Reward, evaluate_reward

__all__ = ["Reward", "evaluate_reward"]
