"""Running Girsanov estimate of KL(P^{u,ν} ‖ P^pre) and its standard error, correct under DDP."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


class KLToPrior(Metric):
    """Mean of the per-path KL estimate ``k_i = c_i + b_i`` over all ranks.

    ``c_i = ∫½‖a‖²dt`` is the running cost and ``b_i = ∫½‖b_ψ‖²dτ`` the initial
    cost of path ``i`` (see ``Rollout.kl``). Only sums are kept, reduced by
    ``"sum"`` across ranks: ``Σk``, ``Σk²``, ``Σc``, ``Σb`` and the count ``n`` of
    finite paths. Paths whose ``k_i`` is not finite are left out of every sum and
    counted apart.

    ``compute()`` returns

    * ``total``: ``k̄ = Σk / n``;
    * ``total_stderr``: ``√(s²/n)`` with the unbiased ``s² = (Σk² - n k̄²)/(n - 1)``;
    * ``running``: ``Σc / n``; ``initial``: ``Σb / n``;
    * ``non_finite``: the number of paths left out.

    With no finite path the means are NaN, and with one the standard error is.

    Args:
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("total_sum", "total_squares", "running_sum", "initial_sum"):
            self.add_state(name, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        for name in ("count", "non_finite"):
            self.add_state(name, default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, running_cost: Tensor, initial_cost: Tensor | None = None) -> None:
        """Add paths with running costs ``(n,)`` and initial costs ``(n,)`` (``None``: all 0)."""
        if running_cost.dim() != 1:
            raise ValueError(f"running_cost must be per path, shape (n,); got {tuple(running_cost.shape)}")
        if initial_cost is None:
            initial_cost = torch.zeros_like(running_cost)
        if initial_cost.shape != running_cost.shape:
            raise ValueError(
                f"initial_cost must have the shape of running_cost {tuple(running_cost.shape)}; "
                f"got {tuple(initial_cost.shape)}"
            )
        running = running_cost.detach().to(torch.float64)
        initial = initial_cost.detach().to(running)
        total = running + initial
        finite = torch.isfinite(total)
        running, initial, total = running[finite], initial[finite], total[finite]
        self.total_sum += total.sum()
        self.total_squares += total.pow(2).sum()
        self.running_sum += running.sum()
        self.initial_sum += initial.sum()
        self.count += finite.sum()
        self.non_finite += (~finite).sum()

    def compute(self) -> dict[str, Tensor]:
        """``{"total", "total_stderr", "running", "initial", "non_finite"}``."""
        n = self.count.to(torch.float64)
        mean = self.total_sum / n
        spread = ((self.total_squares - n * mean**2) / (n - 1)).clamp(min=0)
        variance = torch.where(n > 1, spread, torch.nan)
        return {
            "total": mean,
            "total_stderr": (variance / n).sqrt(),
            "running": self.running_sum / n,
            "initial": self.initial_sum / n,
            "non_finite": self.non_finite,
        }
