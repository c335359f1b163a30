"""The learned initial law of ELEGANT.

With the drift fixed, the best initial law is ``ν*(x) ∝ exp(v*_0(x)/α)·ν_ini(x)``
(see docs/concepts.md, "Why the initial law is learned"). It is learned in two steps that reuse the control
machinery:

1. **Value regression.** ``v̂_0(x_0) ≈ E[r(x_T) - α∫½‖a‖²dt | x_0]`` over rollouts
   from ``x_0 ~ ν_ini``.
2. **Auxiliary control.** ``dz = b_ψ(τ, z)dτ + dW`` on ``τ ∈ [0, 1]`` from
   ``z_0 = 0``, whose uncontrolled end is ``N(0, I) = ν_ini``. Maximising
   ``E[v̂_0(z_1)] - α·E∫½‖b_ψ‖²dτ`` makes ``z_1 ~ ν*``, and the running cost is
   the Girsanov form of ``KL(ν ‖ ν_ini)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .brownian import BrownianPrior
from .controlled import ControlledSDE
from .corrections import NetworkCorrection
from .nets import MLP
from .solve import Solution, solve


class LearnedInitialLaw(nn.Module):
    """A value network ``v̂_0`` and the auxiliary controlled SDE that samples ν.

    Args:
        event_shape: shape of one sample ``x_0`` of the main SDE.
        hidden, depth: size of the value network and of the auxiliary control.
        steps: solver steps of the auxiliary SDE.
        previous: also track the cost ``∫½‖b_ψ - b_prev‖²dτ`` to a frozen previous
            auxiliary control, the Girsanov form of ``KL(ν ‖ ν_prev)`` (SEIKO).

    The buffer :attr:`enabled` (saved with the weights) says whether samplers start
    from ν or fall back to ``ν_ini = N(0, I)``; a value with no held-out skill
    (:meth:`rewardsde.ElegantObjective.value_skill`) should not tilt the start.
    """

    def __init__(
        self, event_shape: tuple[int, ...], hidden: int = 64, depth: int = 2, steps: int = 20, previous: bool = False
    ) -> None:
        super().__init__()
        self.event_shape = tuple(event_shape)
        size = int(torch.Size(self.event_shape).numel())
        self.steps = steps
        self.value = MLP(size, 1, hidden, depth, timed=False)
        self.register_buffer("enabled", torch.ones((), dtype=torch.bool))
        self.auxiliary = ControlledSDE(
            BrownianPrior(size, c=1.0, initial_std=0.0), NetworkCorrection(None, hidden, depth), previous=previous
        )

    def value_at(self, x0: Tensor) -> Tensor:
        """v̂_0(x_0), shape ``(batch,)``."""
        return self.value(x0).squeeze(-1)

    def sample(self, n: int, seed: int | None = None, backend: str = "adjoint") -> Solution:
        """``x_0 ~ ν`` with its running cost ``∫½‖b_ψ‖²dτ``, the per-path KL(ν ‖ ν_ini) integrand.

        The auxiliary SDE has no drift of its own, so its reversible-Heun solve is
        accurate and its adjoint gradients exact.
        """
        z0 = self.auxiliary.reference.sample_initial(n)
        solution = solve(self.auxiliary, z0, self.steps, backend=backend, seed=seed)
        return Solution(solution.x.reshape(n, *self.event_shape), solution.running_cost, solution.previous_cost)
