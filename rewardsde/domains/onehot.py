"""Token sequences as one-hot float tensors, and back by argmax."""

from __future__ import annotations

import torch
from torch import Tensor


def one_hot(tokens: Tensor, num_states: int, low: float = 0.0, high: float = 1.0) -> Tensor:
    """Encode integer tokens ``(batch, length)`` as ``(batch, num_states, length)`` floats.

    Position ``j`` of sequence ``b`` becomes the scaled simplex vertex

        x[b, :, j] = low + (high - low) · e_{tokens[b, j]},

    so ``low=0, high=1`` gives the plain one-hot code and ``low=-1, high=1`` a centred
    code of unit magnitude, closer to the N(0, I) scale of a VP diffusion.

    Raises:
        ValueError: for a tensor that is not ``(batch, length)`` integers, tokens
            outside ``[0, num_states)``, or ``high <= low``.
    """
    if tokens.dim() != 2 or tokens.is_floating_point() or tokens.is_complex():
        raise ValueError(f"tokens must be an integer tensor of shape (batch, length), got {tokens.dtype} {tuple(tokens.shape)}")
    if num_states < 2:
        raise ValueError(f"num_states must be at least 2, got {num_states}")
    if not high > low:
        raise ValueError(f"need high > low, got low={low}, high={high}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= num_states):
        raise ValueError(
            f"tokens must lie in [0, {num_states}), got values from {tokens.min().item()} to {tokens.max().item()}"
        )
    vertices = torch.nn.functional.one_hot(tokens.long(), num_states).transpose(1, 2)
    return low + (high - low) * vertices.to(torch.get_default_dtype())


def check_one_hot_shape(x: Tensor, num_states: int, length: int | None = None) -> None:
    """Raise ``ValueError`` unless ``x`` has shape ``(batch, num_states, length)``
    (any length when ``length`` is None)."""
    expected = f"(batch, {num_states}, {'length' if length is None else length})"
    if x.dim() != 3 or x.shape[1] != num_states or (length is not None and x.shape[2] != length):
        raise ValueError(f"expected one-hot sequences of shape {expected}, got {tuple(x.shape)}")


def decode(x: Tensor) -> Tensor:
    """Tokens ``argmax_k x[b, k, j]``: ``(batch, num_states, length) -> (batch, length)`` int64.

    Not differentiable; a reward computed on the decoded tokens gives no gradient in ``x``.
    """
    if x.dim() != 3:
        raise ValueError(f"expected sequences of shape (batch, num_states, length), got {tuple(x.shape)}")
    return x.argmax(dim=1)
