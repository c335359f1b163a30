"""Thin LightningModules over the core (``rewardsde.lightning_modules``)."""

from .elegant import ElegantModule, NoKLModule
from .pretrain import PretrainModule
from .seiko import SeikoModule

__all__ = ["ElegantModule", "NoKLModule", "PretrainModule", "SeikoModule"]
