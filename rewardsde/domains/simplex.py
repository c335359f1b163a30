"""The point of the coded simplex that a continuous sequence decodes towards: what a learned reward should score."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .onehot import from_probabilities


class SimplexProjection(nn.Module):
    """Map ``x (batch, num_states, length)`` to the coded simplex, position by position.

    A fine-tuned model's end state ``x_T`` is a continuous vector, but its sequence is
    ``argmax_k x[:, k, j]``. A learned reward that sees

        soft(x)[:, :, j] = 2·softmax(τ·x[:, :, j]) - 1          (over the states),

    sees a point of the simplex (in the ±1 code of :func:`one_hot`) that moves towards
    the decoded sequence's vertex as ``τ`` grows; on a ±1 one-hot input it is the
    vertex up to a probability ``e^{-2τ}/(1 + (V-1)e^{-2τ})`` on each wrong state. With
    ``straight_through`` the output is that vertex exactly,

        st(x) = one_hot(argmax x) + soft(x) - stop_gradient(soft(x)),

    and the gradient that of ``soft``. Either way each position's probabilities sum
    to one, so the output's entries sum to ``2 - V`` over the states. Fit a reward
    model and score with the same projection (pass it as the model's ``features``).

    Args:
        temperature: ``τ > 0`` (an inverse temperature: large is sharp).
        straight_through: forward the decoded vertex, backward the soft point.
    """

    def __init__(self, temperature: float = 3.0, straight_through: bool = False) -> None:
        super().__init__()
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be positive and finite, got {temperature}")
        self.temperature, self.straight_through = float(temperature), bool(straight_through)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3:
            raise ValueError(f"expected sequences of shape (batch, num_states, length), got {tuple(x.shape)}")
        p = torch.softmax(self.temperature * x, dim=1)
        if self.straight_through:
            hard = torch.nn.functional.one_hot(x.argmax(1), x.shape[1]).transpose(1, 2).to(p)
            p = hard + p - p.detach()
        return from_probabilities(p)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, straight_through={self.straight_through}"
