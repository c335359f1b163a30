"""Sequence diversity as the mean pairwise Hamming distance, correct under DDP."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from rewardsde.domains import decode

from ._states import DTYPE, concatenated


def mean_pairwise_hamming(tokens: Tensor) -> Tensor:
    """``2/(n(n-1)) Σ_{i<j} Σ_l 1[a_il ≠ a_jl]`` for tokens ``(n, L)``.

    Computed from one-hot codes ``O`` ``(n, V·L)``: the distance is ``L - (O Oᵀ)_ij``.
    """
    n, length = tokens.shape
    codes = torch.nn.functional.one_hot(tokens.long()).flatten(1).to(DTYPE)
    distances = length - codes @ codes.T
    pairs = torch.triu_indices(n, n, offset=1, device=tokens.device).unbind()
    return distances[pairs].mean()


class HammingDiversity(Metric):
    """Mean pairwise Hamming distance (in positions, ``0..L``) between the argmax-decoded
    sequences of all ranks.

    ``update`` takes one-hot samples ``(n, num_states, L)``. Decoded tokens are kept
    flat in float64 (``"cat"``) with ``L`` in a ``"max"`` state, so a rank with no
    samples syncs too; the figure is symmetric in the samples, so the gathering order
    does not matter.
    """

    full_state_update = False
    is_differentiable = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_dtype(DTYPE)
        self.add_state("tokens", default=[], dist_reduce_fx="cat")
        self.add_state("length", default=torch.tensor(0), dist_reduce_fx="max")

    def update(self, x: Tensor) -> None:
        tokens = decode(x.detach())
        if int(self.length) not in (0, tokens.shape[1]):
            raise ValueError(f"sequences of length {tokens.shape[1]} after sequences of length {self.length.item()}")
        self.tokens.append(tokens.reshape(-1).to(DTYPE))
        self.length.fill_(tokens.shape[1])

    def compute(self) -> Tensor:
        length = int(self.length)
        tokens = concatenated(self.tokens, length).long() if length else torch.empty(0, 0, dtype=torch.long)
        if tokens.shape[0] < 2:
            raise ValueError(f"Hamming diversity needs at least 2 samples, got {tokens.shape[0]}")
        return mean_pairwise_hamming(tokens)
