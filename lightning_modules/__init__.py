"""Thin LightningModules over the core (``rewardsde.lightning_modules``)."""

from .elegant import ElegantModule, NoKLModule, Rollout
from .seiko import SeikoModule

__all__ = ["ElegantModule", "NoKLModule", "Rollout", "SeikoModule"]
