"""Thompson sampling: optimise one posterior draw per round."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import RewardModel


class ThompsonReward(RewardModel):
    """The heads fit bootstrap resamples (an approximate posterior); each fit
    draws one head ``h*`` at random, and the reward of the round is ``r_{h*}(x)``,
    i.e. ``ĝ = r_{h*} - r̂`` (of either sign).

    Args:
        kwargs: see :class:`RewardModel` (``heads >= 2``).
    """

    bootstrap = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.head_count < 2:
            raise ValueError(f"Thompson sampling needs heads >= 2, got {self.head_count}")

    def on_build(self) -> None:
        self.register_buffer("chosen", torch.zeros((), dtype=torch.long))

    def after_fit(self, z: Tensor, generator: torch.Generator) -> None:
        self.chosen.fill_(int(torch.randint(self.head_count, (), generator=generator)))

    def forward(self, x: Tensor) -> Tensor:
        return self.per_head(x)[self.chosen]

    def bonus(self, x: Tensor) -> Tensor:
        values = self.per_head(x)
        return values[self.chosen] - values.mean(0)
