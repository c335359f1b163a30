"""Ehrlich closed-form functions (Stanton et al. 2024) as rewards on one-hot sequences."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .metadata import EhrlichInstance, SequenceDomain
from .onehot import check_one_hot_shape, decode


class EhrlichReward(nn.Module):
    """``r(x) = f(argmax x)`` for an Ehrlich function ``f``, with infeasible sequences mapped to a finite value.

    ``f`` (``holo.test_functions.closed_form.Ehrlich``, from the ``bio`` extra) scores a
    token sequence ``a ∈ {0..V-1}^L`` by the product over ``c`` motifs of the quantised
    fraction of each spaced motif present, a value in ``[0, 1]``. A sequence is
    feasible when every transition ``a_j → a_{j+1}`` has positive probability under
    the instance's discrete Markov process (DMP); ``f`` is ``-inf`` otherwise, and
    here it is ``infeasible_value`` instead, so no ``-inf`` reaches a loss:

        r(x) = f(a) if a is feasible else infeasible_value,   a = argmax_k x[:, k, :].

    The argmax makes ``r`` piecewise constant in ``x``: it has no useful gradient, so
    methods that backpropagate through the reward need a learned surrogate
    (:class:`rewardsde.domains.PretrainedSurrogateReward`).

    Args:
        num_states: alphabet size ``V``.
        dim: sequence length ``L``.
        num_motifs: number of motifs ``c``.
        motif_length: length ``k`` of each motif.
        quantization: quantisation levels of the motif fraction (``None``: ``k``).
        epistasis_factor: holo's epistasis coefficient.
        random_seed: the seed that defines the instance (transition matrix, motifs, spacings).
        infeasible_value: the reward of an infeasible sequence.

    :attr:`fingerprint` names the instance, as the JSON-able dict of its
    :class:`rewardsde.domains.SequenceDomain` (quantisation ``None`` written as ``k``):
    an :class:`rewardsde.rewards.Oracle` of this reward records it in its label file
    and refuses a file written for another instance.

    Raises:
        ValueError: for samples or tokens of another length or number of states,
            naming both (e.g. ``x has 21 states, the Ehrlich instance has 20``).

    Example:
        >>> reward = EhrlichReward(num_states=20, dim=32, num_motifs=2, motif_length=4)
        >>> x = one_hot(reward.sample(8, torch.Generator().manual_seed(0)), 20)
        >>> reward(x).shape
        torch.Size([8])
    """

    def __init__(
        self,
        num_states: int = 20,
        dim: int = 32,
        num_motifs: int = 2,
        motif_length: int = 4,
        quantization: int | None = None,
        epistasis_factor: float = 0.0,
        random_seed: int = 0,
        infeasible_value: float = 0.0,
    ) -> None:
        super().__init__()
        from holo.test_functions.closed_form import Ehrlich

        if not math.isfinite(infeasible_value):
            raise ValueError(f"infeasible_value must be finite, got {infeasible_value}")
        self.function = Ehrlich(
            num_states=num_states,
            dim=dim,
            num_motifs=num_motifs,
            motif_length=motif_length,
            quantization=quantization,
            epistasis_factor=epistasis_factor,
            random_seed=random_seed,
        )
        self.num_states = num_states
        self.dim = dim
        self.infeasible_value = float(infeasible_value)
        instance = EhrlichInstance(num_motifs, motif_length, motif_length if quantization is None else quantization,
                                   float(epistasis_factor), random_seed)
        self.fingerprint = SequenceDomain(num_states, dim, instance).to_dict()

    def check_tokens(self, tokens: Tensor) -> Tensor:
        """``tokens`` ``(batch, dim)`` as int64 on the CPU, checked against the instance."""
        if tokens.dim() != 2 or tokens.is_floating_point():
            raise ValueError(
                f"expected integer tokens of shape (batch, {self.dim}), got {tokens.dtype} {tuple(tokens.shape)}"
            )
        if tokens.shape[1] != self.dim:
            raise ValueError(f"tokens have length {tokens.shape[1]}, the Ehrlich instance has length {self.dim}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.num_states):
            raise ValueError(
                f"tokens must lie in [0, {self.num_states}) (the Ehrlich instance has {self.num_states} states), "
                f"got {tokens.min().item()}..{tokens.max().item()}"
            )
        return tokens.long().cpu()

    def feasible(self, tokens: Tensor) -> Tensor:
        """``(batch, dim)`` tokens ``->`` ``(batch,)`` bool: every transition ``P[a_j, a_{j+1}] > 0``."""
        tokens = self.check_tokens(tokens)
        allowed = self.function.transition_matrix.cpu() > 0
        return allowed[tokens[:, :-1], tokens[:, 1:]].all(dim=1).to(tokens.device)

    def value(self, tokens: Tensor) -> Tensor:
        """``f(a)`` ``(batch,)`` for tokens ``(batch, dim)``, with ``infeasible_value`` for infeasible ones."""
        checked = self.check_tokens(tokens)
        raw = self.function.evaluate_true(checked)
        return torch.where(torch.isinf(raw), torch.full_like(raw, self.infeasible_value), raw).to(tokens.device)

    def forward(self, x: Tensor) -> Tensor:
        """``r(x)`` ``(batch,)`` for one-hot sequences ``x`` ``(batch, num_states, dim)``, in ``x``'s dtype."""
        check_one_hot_shape(x, self.num_states, self.dim, owner="the Ehrlich instance")
        return self.value(decode(x)).to(x)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` fresh feasible sequences ``(n, dim)`` from the instance's DMP, started in its stationary law.

        Unlike ``Ehrlich.initial_solution``, which returns the same sequences on every
        call, this draws from ``generator``.
        """
        from holo.test_functions.elemental import sample_dmp

        if n < 1:
            raise ValueError(f"n must be positive, got {n}")
        return sample_dmp(
            initial_dist=self.function.stationary_dist.squeeze(-1),
            transition_matrix=self.function.transition_matrix,
            num_steps=self.dim,
            num_samples=n,
            generator=generator,
        )

    def optimum(self) -> Tensor:
        """A constructed optimal sequence ``(dim,)`` with ``f = 1``."""
        return self.function.optimal_solution()
