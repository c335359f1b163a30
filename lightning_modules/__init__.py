"""Thin LightningModules over the core (``rewardsde.lightning_modules``)."""

from .elegant import ElegantModule, NoKLModule, Rollout

__all__ = ["ElegantModule", "NoKLModule", "Rollout"]
