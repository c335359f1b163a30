"""The best reward among generated samples, correct under DDP."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn
from torchmetrics import MaxMetric


class BestReward(MaxMetric):
    """``max_i r(x_i)`` over the samples of all ranks; non-finite rewards are left out.

    torchmetrics' :class:`~torchmetrics.MaxMetric` (a ``"max"`` state, in
    float64) over the finite rewards of each batch, plus a ``"sum"`` count of
    the samples seen, so that no samples at all is an error rather than ``-inf``.

    Args:
        reward: ``reward(x) -> (n,)`` for samples ``(n, ...)``, e.g. a genuine oracle
            such as :class:`rewardsde.domains.GenuineReward`.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, reward: nn.Module | Callable[[Tensor], Tensor], **kwargs: Any) -> None:
        super().__init__(nan_strategy="disable", **kwargs)
        self.set_dtype(torch.float64)
        self.reward = reward
        self.add_state("total", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, x: Tensor) -> None:
        """Add the rewards of a batch of samples ``x`` ``(n, ...)``."""
        values = torch.as_tensor(self.reward(x.detach()))
        if values.shape != (x.shape[0],):
            raise ValueError(f"reward must return shape ({x.shape[0]},) for this batch, got {tuple(values.shape)}")
        super().update(values[torch.isfinite(values)])
        self.total += x.shape[0]

    def compute(self) -> Tensor:
        """The best finite reward; ``ValueError`` when no samples were seen on any rank."""
        if self.total == 0:
            raise ValueError("best reward needs at least one sample, got none")
        return super().compute()
