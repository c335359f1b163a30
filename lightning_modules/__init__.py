"""Thin LightningModules over the core (``rewardsde.lightning_modules``)."""

from .adjoint_matching import AdjointMatchingModule
from .elegant import ElegantModule, NoKLModule
from .pretrain import PretrainModule
from .seiko import SeikoModule

__all__ = ["AdjointMatchingModule", "ElegantModule", "NoKLModule", "PretrainModule", "SeikoModule"]
