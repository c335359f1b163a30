"""Thin LightningModules over the core (``rewardsde.lightning_modules``)."""

from .elegant import ElegantModule, NoKLModule, Rollout
from .pretrain import PretrainModule

__all__ = ["ElegantModule", "NoKLModule", "PretrainModule", "Rollout"]
