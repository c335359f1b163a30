"""The one code of token sequences as float tensors: ±1 one-hot vectors, and back by argmax."""

from __future__ import annotations

import torch
from torch import Tensor

LOW, HIGH = -1.0, 1.0


def one_hot(tokens: Tensor, num_states: int) -> Tensor:
    """Encode integer tokens ``(batch, length)`` as ``(batch, num_states, length)`` floats.

    Position ``j`` of sequence ``b`` becomes the scaled simplex vertex

        x[b, :, j] = 2·e_{tokens[b, j]} - 1,

    ``+1`` at the token and ``-1`` elsewhere: a centred code of unit magnitude, close
    to the N(0, I) scale of a VP diffusion. It is the only code in the library: the
    data modules, the x₀-parameterised :class:`rewardsde.domains.SequenceEps`
    (:func:`from_probabilities`) and the tests all use it.

    Raises:
        ValueError: for a tensor that is not ``(batch, length)`` integers, or tokens
            outside ``[0, num_states)``.
    """
    if tokens.dim() != 2 or tokens.is_floating_point() or tokens.is_complex():
        raise ValueError(f"tokens must be an integer tensor of shape (batch, length), got {tokens.dtype} {tuple(tokens.shape)}")
    if num_states < 2:
        raise ValueError(f"num_states must be at least 2, got {num_states}")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= num_states):
        raise ValueError(
            f"tokens must lie in [0, {num_states}), got values from {tokens.min().item()} to {tokens.max().item()}"
        )
    vertices = torch.nn.functional.one_hot(tokens.long(), num_states).transpose(1, 2)
    return from_probabilities(vertices.to(torch.get_default_dtype()))


def from_probabilities(p: Tensor) -> Tensor:
    """The point ``2·p - 1`` of the coded simplex for probabilities ``p`` over the states (dim 1).

    ``(batch, num_states, length) -> (batch, num_states, length)``; a vertex ``e_a``
    maps to :func:`one_hot`'s code of ``a``, and any ``p`` to the convex hull of the codes.
    """
    return LOW + (HIGH - LOW) * p


def check_one_hot_shape(x: Tensor, num_states: int, length: int | None = None, owner: str | None = None) -> None:
    """Raise ``ValueError`` unless ``x`` has shape ``(batch, num_states, length)``
    (any length when ``length`` is None).

    The message names what differs and what ``owner`` expects, then both shapes, e.g.
    ``x has 21 states, the Ehrlich instance has 20 (expected one-hot sequences of shape
    (batch, 20, 32), got (3, 21, 32))`` for ``owner="the Ehrlich instance"``.
    """
    expected = f"(batch, {num_states}, {'length' if length is None else length})"
    shapes = f"expected one-hot sequences of shape {expected}, got {tuple(x.shape)}"
    has = f"{owner} has" if owner else "expected"
    if x.dim() != 3:
        raise ValueError(shapes)
    if x.shape[1] != num_states:
        raise ValueError(f"x has {x.shape[1]} states, {has} {num_states} ({shapes})")
    if length is not None and x.shape[2] != length:
        raise ValueError(f"x has length {x.shape[2]}, {has} length {length} ({shapes})")


def check_network_shape(network: object, event_shape: tuple[int, ...], role: str = "the network") -> None:
    """Raise ``ValueError`` when ``network`` declares a sequence shape (``num_states`` and
    ``length`` attributes, as :class:`rewardsde.domains.SequenceEps` does) other than
    ``event_shape``, the ``(num_states, length)`` of the samples it will be given; a
    network that declares none passes (its shapes are checked when it runs)."""
    declared = (getattr(network, "num_states", None), getattr(network, "length", None))
    if None in declared or tuple(event_shape) == declared:
        return
    samples = (f"{event_shape[0]} states and length {event_shape[1]}" if len(event_shape) == 2
               else f"shape {tuple(event_shape)}")
    raise ValueError(
        f"{role} ({type(network).__name__}) takes sequences of {declared[0]} states and length {declared[1]}, "
        f"the SDE's samples have {samples}"
    )


def decode(x: Tensor) -> Tensor:
    """Tokens ``argmax_k x[b, k, j]``: ``(batch, num_states, length) -> (batch, length)`` int64.

    Not differentiable; a reward computed on the decoded tokens gives no gradient in ``x``.
    """
    if x.dim() != 3:
        raise ValueError(f"expected sequences of shape (batch, num_states, length), got {tuple(x.shape)}")
    return x.argmax(dim=1)


def snap(x: Tensor) -> Tensor:
    """The ±1 code of the decoded tokens of ``x``: ``(batch, num_states, length)`` -> the same shape.

    Samples of a sequence model end near a code, not on it; the design they stand for is
    ``one_hot(decode(x))``, the canonical sample of that design (``SeikoRound(canonical=snap)``).
    """
    return one_hot(decode(x), x.shape[1]).to(x)
