"""Bootstrap optimism: heads trained on resamples, and their spread."""

from __future__ import annotations

from torch import Tensor

from .base import RewardModel


class BootstrapReward(RewardModel):
    """Each head fits its own resample (with replacement) of the labels.

    The optimistic reward is ``max_h r_h(x)`` (``k=None``), or
    ``r̂(x) + k·std_h r_h(x)``; so ``ĝ = max_h r_h - r̂`` or ``k·std_h r_h``.

    Args:
        k: width in standard deviations over heads; ``None`` takes the max.
        kwargs: see :class:`RewardModel` (``heads >= 2``).
    """

    bootstrap = True

    def __init__(self, k: float | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.head_count < 2 or (k is not None and not k >= 0):
            raise ValueError(f"bootstrap needs heads >= 2 and k >= 0 or None; got heads={self.head_count}, k={k}")
        self.k = k

    def bonus(self, x: Tensor) -> Tensor:
        values = self.per_head(x)
        if self.k is None:
            return values.max(0).values - values.mean(0)
        return self.k * values.std(0, correction=0)
