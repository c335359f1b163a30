"""A fine-tuned model: reference SDE + drift correction + optional learned initial law."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .controlled import ControlledSDE
from .corrections import DriftCorrection
from .initial_law import LearnedInitialLaw
from .reference import ReferenceSDE
from .solve import Solution, check_solver_options, solve


@dataclass
class Rollout:
    """Samples with what their KL estimate needs.

    Attributes:
        x0: start states ``(n, *event_shape)``.
        x: final samples ``(n, *event_shape)``.
        running_cost: ``∫½‖a‖²dt`` per path, ``(n,)``.
        initial_cost: ``∫½‖b_ψ‖²dτ`` per path (zero for the fixed law), ``(n,)``.
    """

    x0: Tensor
    x: Tensor
    running_cost: Tensor
    initial_cost: Tensor

    @property
    def kl(self) -> Tensor:
        """Per-path Girsanov estimate of ``KL(P^{u,ν} ‖ P^pre)``, ``(n,)``."""
        return self.running_cost + self.initial_cost


def derived_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent seeds derived from ``seed`` (numpy's ``SeedSequence``)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]


class FineTunedSampler(nn.Module):
    """The fine-tuned SDE ``dx = (f + σ·a_θ)dt + σ dW`` from ``x_0 ~ ν``.

    ``ν`` is ``N(0, I)`` (the reference's own start) or, with ``initial_law`` (while
    its ``enabled`` flag is set), the learned law of :class:`rewardsde.LearnedInitialLaw`. The per-path Girsanov
    estimate of ``KL(P^{u,ν} ‖ P^pre)`` is ``∫½‖a‖²dt + ∫½‖b_ψ‖²dτ``
    (:attr:`Rollout.kl`). Plain torch: use it in any loop, and
    :meth:`load_checkpoint` fills it from a Lightning checkpoint without a Trainer.

    Args:
        reference: the pretrained SDE.
        correction: the learned control ``a_θ``.
        initial_law: the learned initial law, or ``None`` for ``N(0, I)``.
        steps: solver steps.
        backend: gradient back end of :func:`rewardsde.solve` for training solves.
        method: torchsde solver; default ``reference.preferred_method``.
        truncate: differentiated steps of the ``truncated`` back end.
        checkpoint: recompute network calls in the backward pass (``direct``).
        previous: also track ``∫½‖a - a_prev‖²dt`` to a frozen previous control (SEIKO).
    """

    def __init__(
        self,
        reference: ReferenceSDE,
        correction: DriftCorrection,
        initial_law: LearnedInitialLaw | None = None,
        *,
        steps: int = 50,
        backend: str = "adjoint",
        method: str | None = None,
        truncate: int | None = None,
        checkpoint: bool = False,
        previous: bool = False,
    ) -> None:
        super().__init__()
        check_solver_options(backend, method, steps, truncate=truncate)
        if initial_law is not None and initial_law.event_shape != tuple(reference.event_shape):
            raise ValueError(
                f"initial_law samples shape {initial_law.event_shape}, the reference {tuple(reference.event_shape)}"
            )
        self.controlled = ControlledSDE(reference, correction, checkpoint=checkpoint, previous=previous)
        self.initial_law = initial_law
        self.steps, self.backend, self.method, self.truncate = steps, backend, method, truncate

    @property
    def reference(self) -> ReferenceSDE:
        return self.controlled.reference

    def start(self, n: int, seed: int) -> Tensor:
        """``x_0 ~ N(0, I)`` (the reference's start), ``(n, *event_shape)``, seeded."""
        generator = torch.Generator(device=self.reference.device).manual_seed(seed)
        return self.reference.sample_initial(n, generator)

    def solve(self, x0: Tensor, seed: int, backend: str | None = None) -> Solution:
        """Solve from ``x0`` with Brownian motion ``seed``; gradients through ``backend``
        (default: the sampler's)."""
        return solve(self.controlled, x0, self.steps, backend=backend or self.backend, method=self.method,
                     truncate=self.truncate, seed=seed)

    def freeze_previous(self) -> None:
        """Make the current controls (drift and initial law) the frozen previous ones (SEIKO)."""
        self.controlled.freeze_previous()
        if self.initial_law is not None:
            self.initial_law.auxiliary.freeze_previous()

    @torch.no_grad()
    def rollout(self, n: int, seed: int = 0) -> Rollout:
        """``n`` samples with their KL parts; no gradients. ``seed`` fixes everything."""
        seeds = derived_seeds(seed, 3)
        if self.initial_law is None or not self.initial_law.enabled:
            x0 = self.start(n, seeds[0])
            initial_cost = x0.new_zeros(n)
        else:
            start = self.initial_law.sample(n, seed=seeds[1], backend="direct")
            x0, initial_cost = start.x, start.running_cost
        with self.reference.for_sampling():
            end = self.solve(x0, seeds[2], backend="direct")
        return Rollout(x0, end.x, end.running_cost, initial_cost)

    def sample(self, n: int, seed: int = 0) -> Tensor:
        """``n`` samples ``(n, *event_shape)``."""
        return self.rollout(n, seed).x

    def load_checkpoint(self, path: str | Path, prefix: str = "sampler.") -> None:
        """Load the trained weights from a checkpoint of a rewardsde Lightning module.

        Reads ``path`` with ``weights_only=True`` and loads the entries under
        ``prefix``; the frozen pretrained weights, which checkpoints leave out, are
        kept as they are. Raises ``ValueError`` when a trained weight is missing.
        """
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
        own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not own:
            raise ValueError(f"{path} holds no weights under {prefix!r}")
        frozen = {f"controlled.reference.{k}" for k, p in self.reference.named_parameters() if not p.requires_grad}
        missing = [k for k in self.state_dict() if k not in own and k not in frozen]
        if missing:
            raise ValueError(f"{path} lacks the trained weights {missing[:5]}")
        self.load_state_dict(own, strict=False)
