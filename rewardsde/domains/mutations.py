"""Point mutations of one-hot sequences: a proposal law around given designs that is known exactly."""

from __future__ import annotations

import torch
from torch import Tensor

from .onehot import decode, one_hot


class PointMutations:
    """Draw designs ``sites`` substitutions away from given anchor sequences.

    For anchors ``a^1..a^A`` (decoded tokens, ``(A, L)``) a draw picks an anchor ``a``
    uniformly, ``sites`` distinct positions ``j`` uniformly, and at each a new state uniformly
    among the ``K - 1`` others. Its law is the known mixture

        m(x) = (1/A)·Σ_a 1[d_H(x, a) = s] / (C(L, s)·(K-1)^s),

    every design at Hamming distance exactly ``s`` from an anchor. It is the neighbourhood
    component of :class:`rewardsde.TiltedDenoisingObjective` (``neighbours > 0``) on sequences.

    Args:
        sites: the number of substituted positions ``s``, at least 1.

    Shapes: ``anchors`` ``(A, K, L)`` in the ±1 code (:func:`rewardsde.domains.one_hot`, or end
    states near it, decoded by argmax); the draw is ``(n, K, L)`` in that code.
    """

    def __init__(self, sites: int = 1) -> None:
        if not (isinstance(sites, int) and sites >= 1):
            raise ValueError(f"sites must be a positive integer, got {sites!r}")
        self.sites = sites

    def __call__(self, anchors: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
        if anchors.dim() != 3 or len(anchors) == 0:
            raise ValueError(f"anchors must be a non-empty (A, num_states, length) tensor, got {tuple(anchors.shape)}")
        states, length = anchors.shape[1:]
        if self.sites > length or states < 2:
            raise ValueError(f"{self.sites} sites cannot change in sequences of length {length} and {states} states")
        tokens = decode(anchors).cpu()
        parent = torch.randint(len(tokens), (n,), generator=generator)
        draws = tokens[parent].clone()
        positions = torch.rand(n, length, generator=generator).argsort(1)[:, : self.sites]
        shift = torch.randint(1, states, (n, self.sites), generator=generator)
        old = draws.gather(1, positions)
        draws.scatter_(1, positions, (old + shift) % states)
        return one_hot(draws, states).to(anchors)
