"""The reward protocol: a callable ``x -> (batch,)`` tensor."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Reward(Protocol):
    """The contract of a reward: ``r(x)``, one finite value per sample.

        r: (batch, *event_shape) -> (batch,),

    fine-tuning maximises ``E[r(x_T)] - α·KL(P ‖ P^pre)``. Any callable with this
    signature is a reward: a function, a lambda, an ``nn.Module``, a reward model
    of :mod:`rewardsde.rewards.models`. Methods that backpropagate ``r(x_T)``
    through the solve (ELEGANT, reward backprop) need ``r`` differentiable in
    ``x``; an oracle that is not is fitted by a reward model first (SEIKO).
    :func:`evaluate_reward` checks the shape and finiteness of every value.

    Example:
        >>> reward: Reward = lambda x: -x.flatten(1).pow(2).sum(1)
        >>> reward(torch.randn(4, 2)).shape
        torch.Size([4])
    """

    def __call__(self, x: Tensor) -> Tensor:
        """``r(x)``, shape ``(batch,)``, for samples ``x`` of shape ``(batch, *event_shape)``."""
        ...


def evaluate_reward(reward: Reward, x: Tensor, gradient_for: str | None = None) -> Tensor:
    """``reward(x)`` for ``x`` of shape ``(batch, ...)``, checked to be finite and of shape ``(batch,)``.

    Args:
        reward: the reward.
        x: samples.
        gradient_for: the name of a method that backpropagates ``r(x)`` into the
            drift; when given and ``x`` carries gradients, the reward must too.

    Raises:
        ValueError: naming the reward and what is wrong, for a wrong shape, NaN or
            ±inf, or a reward with no gradient where ``gradient_for`` needs one.
    """
    value = reward(x)
    name = getattr(reward, "__name__", type(reward).__name__)
    if not isinstance(value, Tensor) or value.shape != (x.shape[0],):
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"reward {name} must return a tensor of shape ({x.shape[0]},) for this batch, got {shape}")
    if not torch.isfinite(value).all():
        bad = (~torch.isfinite(value)).sum().item()
        raise ValueError(f"reward {name} returned {bad} non-finite value(s) (NaN or inf) in a batch of {x.shape[0]}")
    if gradient_for is not None and x.requires_grad and not value.requires_grad:
        raise ValueError(
            f"reward {name} is not differentiable in x, but {gradient_for} trains the drift by backpropagating "
            "r(x_T) through the SDE solve; use a differentiable reward, e.g. a reward model fitted to the "
            "non-differentiable one (as SEIKO does)"
        )
    return value
