"""The fraction of samples that are feasible, correct under DDP."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor
from torchmetrics import Metric


class FeasibilityRate(Metric):
    """``(1/n) Σ_i 1[feasible(x_i)]`` over the samples of all ranks (two ``"sum"`` states).

    Args:
        feasible: maps a batch of samples ``(n, ...)`` to a bool or 0/1 tensor ``(n,)``,
            e.g. ``lambda x: reward.feasible(decode(x))`` for an
            :class:`rewardsde.domains.EhrlichReward`.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, feasible: Callable[[Tensor], Tensor], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feasible = feasible
        self.add_state("hits", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, x: Tensor) -> None:
        flags = torch.as_tensor(self.feasible(x.detach()))
        if flags.shape != (x.shape[0],):
            raise ValueError(f"feasible must return shape ({x.shape[0]},) for this batch, got {tuple(flags.shape)}")
        self.hits += flags.to(self.hits).sum()
        self.total += x.shape[0]

    def compute(self) -> Tensor:
        """The feasible fraction; ``ValueError`` when no samples were seen on any rank."""
        if self.total == 0:
            raise ValueError("feasibility rate needs at least one sample, got none")
        return self.hits / self.total
