"""Is the reward model's bonus a confidence bound? The coverage of ``|r̂ - r| ≤ ĝ``, correct under DDP."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric


class BonusCoverage(Metric):
    """``coverage = (1/m) Σ_i 1[|r̂(x_i) - r(x_i)| ≤ ĝ(x_i)]`` and ``bonus = (1/m) Σ_i ĝ(x_i)``
    over the ``m`` feasible samples of all ranks (infeasible ones have no value to cover).

    UCB's regret guarantee assumes the bonus covers the error with high probability:
    a coverage well below the intended level says the optimism is not a confidence
    bound. Greedy (``ĝ = 0``) covers nothing; Thompson's ``ĝ`` is a signed draw, so
    its coverage reads as "how often the drawn head is on the far side of the truth".
    Three ``"sum"`` states in float64.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("covered", "bonus_sum", "count"):
            self.add_state(name, torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, mean: Tensor, bonus: Tensor, genuine: Tensor, feasible: Tensor) -> None:
        """Add a batch: ``r̂``, ``ĝ`` and the genuine ``r`` ``(n,)``, and the feasibility flags ``(n,)``."""
        shapes = {tuple(t.shape) for t in (mean, bonus, genuine, feasible)}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError(f"mean, bonus, genuine and feasible must share one shape (n,), got {sorted(shapes)}")
        keep = feasible.bool()
        mean, bonus, genuine = (t.detach()[keep].to(torch.float64) for t in (mean, bonus, genuine))
        self.covered += ((mean - genuine).abs() <= bonus).sum()
        self.bonus_sum += bonus.sum()
        self.count += keep.sum()

    def compute(self) -> dict[str, Tensor]:
        """``{"coverage", "bonus"}``; NaN with no feasible sample."""
        count = self.count if self.count > 0 else torch.full_like(self.count, float("nan"))
        return {"coverage": self.covered / count, "bonus": self.bonus_sum / count}
