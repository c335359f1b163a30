"""Distance of samples to an exact Gaussian-mixture target, correct under DDP."""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor
from torchmetrics import Metric

from rewardsde.analytic import GaussianMixture, target_distance_dict

from ._states import DTYPE, concatenated


class TargetDistanceMetric(Metric):
    """:func:`rewardsde.analytic.target_distance` of the samples of all ranks together.

    Samples are kept flat in float64 in a ``"cat"`` state (see
    ``callbacks/_states.py``), so ``compute()`` sees the union ``(n, D)`` of every
    rank's samples. Every figure of ``target_distance`` (moments, mean
    responsibilities, sorted projections) is symmetric in the samples, so the
    order of the gathered shards does not matter, and the reference and
    noise-floor samples depend only on ``seed`` and the total count ``n``.

    ``compute()`` returns the fields of :class:`rewardsde.analytic.TargetDistance`
    as floats: ``mean_error``, ``covariance_error``, ``weight_tv``,
    ``sliced_wasserstein`` and each one's ``*_floor``; the two ``weight_tv*``
    are left out when the target has a single component.

    Args:
        target: the exact target law, dimension ``D``.
        seed: seed of the reference and noise-floor samples and of the projections.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, target: GaussianMixture, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.seed = seed
        self.set_dtype(DTYPE)
        self.add_state("samples", default=[], dist_reduce_fx="cat")

    def update(self, x: Tensor) -> None:
        """Add samples ``x`` ``(n, ...)`` whose trailing dimensions hold ``D`` numbers."""
        if x.dim() < 1:
            raise ValueError(f"need a batch (n, ...), got a tensor of shape {tuple(x.shape)}")
        width = math.prod(x.shape[1:])
        if width != self.target.dim:
            raise ValueError(
                f"samples of shape {tuple(x.shape)} hold {width} numbers each; "
                f"the target has dimension {self.target.dim}"
            )
        self.samples.append(x.detach().reshape(-1).to(self.dtype))

    def compute(self) -> dict[str, float]:
        """The fields of ``TargetDistance`` (without ``weight_tv*`` for a single component)."""
        samples = concatenated(self.samples, self.target.dim)
        if samples.shape[0] < 2:
            raise ValueError(f"a distance to the target needs at least 2 samples, got {samples.shape[0]}")
        return target_distance_dict(samples, self.target, seed=self.seed)
