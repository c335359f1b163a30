"""The fraction of samples that are feasible, correct under DDP."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor
from torchmetrics import MeanMetric


class FeasibilityRate(MeanMetric):
    """``(1/n) Σ_i 1[feasible(x_i)]`` over the samples of all ranks.

    torchmetrics' :class:`~torchmetrics.MeanMetric` (two ``"sum"`` states, in
    float64) of the 0/1 feasibility flags.

    Args:
        feasible: maps a batch of samples ``(n, ...)`` to a bool or 0/1 tensor ``(n,)``,
            e.g. ``lambda x: reward.feasible(decode(x))`` for an
            :class:`rewardsde.domains.EhrlichReward`.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, feasible: Callable[[Tensor], Tensor], **kwargs: Any) -> None:
        super().__init__(nan_strategy="error", **kwargs)
        self.set_dtype(torch.float64)
        self.feasible = feasible

    def update(self, x: Tensor) -> None:
        """Add the feasibility flags of a batch of samples ``x`` ``(n, ...)``."""
        flags = torch.as_tensor(self.feasible(x.detach()))
        if flags.shape != (x.shape[0],):
            raise ValueError(f"feasible must return shape ({x.shape[0]},) for this batch, got {tuple(flags.shape)}")
        super().update(flags.to(torch.float64))

    def compute(self) -> Tensor:
        """The feasible fraction; ``ValueError`` when no samples were seen on any rank."""
        if self.weight == 0:
            raise ValueError("feasibility rate needs at least one sample, got none")
        return super().compute()
