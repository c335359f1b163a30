"""Learned against genuine reward: the gap and their rank agreement, correct under DDP."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from ._states import DTYPE, concatenated


def average_ranks(values: Tensor) -> Tensor:
    """Ranks ``1..n`` of ``values`` ``(n,)`` as float64; tied values share the mean of their ranks.

    After sorting, a run of ``m`` equal values starting at position ``s``
    (0-based) takes the ranks ``s+1, …, s+m``, so each gets ``s + (m + 1)/2``.
    """
    ordered, order = torch.sort(values)
    _, group, counts = torch.unique_consecutive(ordered, return_inverse=True, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    shared = starts.to(torch.float64) + (counts.to(torch.float64) + 1) / 2
    ranks = torch.empty(values.shape, dtype=torch.float64, device=values.device)
    ranks[order] = shared[group]
    return ranks


def spearman(a: Tensor, b: Tensor) -> Tensor:
    """Spearman's ρ of paired samples ``a``, ``b`` ``(n,)``: the Pearson correlation
    of their average ranks ``r``, ``q``, ``Σ(r-r̄)(q-q̄) / √(Σ(r-r̄)² Σ(q-q̄)²)``.

    NaN when either side has no spread (all values tied, or ``n < 2``).

    Not torchmetrics' ``SpearmanCorrCoef``: it adds 1e-6 to the denominator
    (ρ off by about 1e-6), ranks in float32, and returns 0 rather than NaN when
    a side has no spread. The "cat" states of :class:`RewardOveroptimization`
    are what makes the figure DDP-correct; this is only the final formula.
    """
    r = average_ranks(a)
    q = average_ranks(b)
    r, q = r - r.mean(), q - q.mean()
    return (r * q).sum() / ((r * r).sum() * (q * q).sum()).sqrt()


class RewardOveroptimization(Metric):
    """Does a learned reward still track the genuine one on the samples it is pushing?

    From the pairs ``(l_i, g_i)`` of learned and genuine reward of each sample,
    gathered from every rank, ``compute()`` returns

    * ``learned``: ``l̄``; ``genuine``: ``ḡ``; ``gap``: ``l̄ - ḡ`` (over-optimisation
      shows as a growing gap);
    * ``spearman``: Spearman's rank correlation of ``l`` and ``g`` (ties get
      average ranks; NaN with fewer than 2 pairs or no spread);
    * ``non_finite_learned``, ``non_finite_genuine``: how many pairs were dropped
      because ``l_i``, respectively ``g_i``, is not finite (a pair with both is
      counted in both). Dropped pairs enter no other figure.

    The rewards are kept in float64 ``"cat"`` states (see ``callbacks/_states.py``).

    Args:
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_dtype(DTYPE)
        self.add_state("learned", default=[], dist_reduce_fx="cat")
        self.add_state("genuine", default=[], dist_reduce_fx="cat")
        self.add_state("non_finite_learned", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("non_finite_genuine", default=torch.tensor(0, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, learned: Tensor, genuine: Tensor) -> None:
        """Add the rewards ``(n,)`` of ``n`` samples under the learned and the genuine reward."""
        if learned.dim() != 1 or learned.shape != genuine.shape:
            raise ValueError(
                "learned and genuine rewards must be per sample, both of shape (n,); "
                f"got {tuple(learned.shape)} and {tuple(genuine.shape)}"
            )
        learned_finite, genuine_finite = torch.isfinite(learned), torch.isfinite(genuine)
        kept = learned_finite & genuine_finite
        self.non_finite_learned += (~learned_finite).sum()
        self.non_finite_genuine += (~genuine_finite).sum()
        self.learned.append(learned.detach()[kept].to(self.dtype))
        self.genuine.append(genuine.detach()[kept].to(self.dtype))

    def compute(self) -> dict[str, Tensor]:
        """``{"learned", "genuine", "gap", "spearman", "non_finite_learned", "non_finite_genuine"}``."""
        learned, genuine = concatenated(self.learned), concatenated(self.genuine)
        return {
            "learned": learned.mean(),
            "genuine": genuine.mean(),
            "gap": learned.mean() - genuine.mean(),
            "spearman": spearman(learned, genuine),
            "non_finite_learned": self.non_finite_learned,
            "non_finite_genuine": self.non_finite_genuine,
        }
