"""Sample diversity: mean pairwise distance and Vendi score, correct under DDP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from ._states import DTYPE, concatenated

DISTANCES = ("l2", "cosine")


def flatten(x: Tensor) -> Tensor:
    """``(n, ...) -> (n, F)``: the identity on a batch of vectors, ``(n,) -> (n, 1)``."""
    return x.flatten(1) if x.dim() > 1 else x[:, None]


def vendi_score(kernel: Tensor) -> Tensor:
    """``exp(-Σ λ_i log λ_i)`` with ``λ`` the eigenvalues of ``K/n``, for a
    positive semi-definite similarity ``K`` ``(n, n)`` with unit diagonal.

    Round-off negatives of ``λ`` count as 0, and zeros add nothing to the
    entropy (``0·log 0 = 0``), so only ``λ > 0`` enter the sum. It is 1 when all
    samples are alike and ``n`` when they are mutually orthogonal.
    """
    n = kernel.shape[0]
    eigenvalues = torch.linalg.eigvalsh((kernel + kernel.T) / (2 * n))
    positive = eigenvalues[eigenvalues > 0]
    return torch.exp(-(positive * positive.log()).sum())


class Diversity(Metric):
    """How spread out samples are, over the features of all ranks together.

    With features ``f_i`` ``(n, F)`` gathered from every rank:

    * ``mean_distance``: ``2/(n(n-1)) Σ_{i<j} d(f_i, f_j)`` with ``d`` the Euclidean
      distance (``"l2"``) or ``1 - cos(f_i, f_j)`` (``"cosine"``).
    * ``vendi``: the Vendi score ``exp(-Σ λ log λ)``, ``λ`` the eigenvalues of
      ``K/n``. For ``"cosine"`` ``K_ij = cos(f_i, f_j)``. For ``"l2"`` ``K`` is the
      Gaussian kernel ``exp(-‖f_i - f_j‖² / (2h²))`` whose bandwidth ``h`` is the
      median pairwise distance (the lower median of the ``n(n-1)/2`` distances),
      so the score does not depend on the scale of the features. When that median
      is 0 the kernel is its limit ``1[f_i = f_j]``.

    Both figures are symmetric in the samples, so the order in which ranks'
    shards are gathered does not matter. Features are kept flat in float64 with
    their width in a ``"max"`` state, so a rank with no samples syncs too.

    Args:
        features: maps a batch ``(n, ...)`` to features ``(n, F)``; by default
            the batch flattened to ``(n, F)``.
        distance: ``"l2"`` or ``"cosine"``.
        kwargs: passed to :class:`torchmetrics.Metric`.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, features: Callable[[Tensor], Tensor] | None = None, distance: str = "l2", **kwargs: Any) -> None:
        if distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
        super().__init__(**kwargs)
        self.features = flatten if features is None else features
        self.distance = distance
        self.set_dtype(DTYPE)
        self.add_state("feature_values", default=[], dist_reduce_fx="cat")
        self.add_state("width", default=torch.tensor(0), dist_reduce_fx="max")

    def update(self, x: Tensor) -> None:
        """Add the features of a batch ``x`` ``(n, ...)``."""
        if x.dim() < 1:
            raise ValueError(f"need a batch (n, ...), got a tensor of shape {tuple(x.shape)}")
        values = self.features(x.detach())
        if values.dim() != 2 or values.shape[0] != x.shape[0] or values.shape[1] == 0:
            raise ValueError(
                f"features must map a batch of {x.shape[0]} to shape ({x.shape[0]}, F) with F > 0; "
                f"got shape {tuple(values.shape)} from input {tuple(x.shape)}"
            )
        if int(self.width) not in (0, values.shape[1]):
            raise ValueError(f"features of width {values.shape[1]} after features of width {self.width.item()}")
        if self.distance == "cosine" and (values.norm(dim=1) == 0).any():
            raise ValueError("cosine diversity needs non-zero features; got a zero feature vector")
        self.feature_values.append(values.detach().reshape(-1).to(self.dtype))
        self.width.fill_(values.shape[1])

    def compute(self) -> dict[str, Tensor]:
        """``{"mean_distance": ..., "vendi": ...}`` over all samples seen."""
        width = int(self.width)
        values = concatenated(self.feature_values, width) if width else torch.empty(0, 0, dtype=DTYPE)
        n = values.shape[0]
        if n < 2:
            raise ValueError(f"diversity needs at least 2 samples, got {n}")
        pairs = torch.triu_indices(n, n, offset=1, device=values.device).unbind()
        if self.distance == "cosine":
            unit = values / values.norm(dim=1, keepdim=True)
            kernel = unit @ unit.T
            distances = 1 - kernel[pairs]
        else:
            euclidean = torch.cdist(values, values, compute_mode="donot_use_mm_for_euclid_dist")
            squared = euclidean.pow(2)
            distances = euclidean[pairs]
            bandwidth = distances.median()
            kernel = (squared == 0).to(squared) if bandwidth == 0 else torch.exp(-squared / (2 * bandwidth**2))
        return {"mean_distance": distances.mean(), "vendi": vendi_score(kernel)}
