"""A pretrained ε-prediction diffusion model as a generation-time SDE."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn

from .reference import ReferenceSDE
from .schedule import VPSchedule


class PretrainedSDE(ReferenceSDE):
    """The reverse-time VP SDE of an ε-network, run forward in generation time.

    With diffusion time ``s = 1 - t`` and ``∇log p_s(x) = -ε(x, s)/σ_s``:

        f(t, x) = ½β(s)·x - β(s)·ε(x, s)/σ_s,    σ(t) = √β(s),

    for ``t ∈ [0, 1 - s_min]``. This class is the one place where network output
    becomes a score.

    Its solver of choice is ``midpoint``: the VP drift contracts at rates up to
    about β_max/2, and reversible Heun, which cannot damp errors, lands far off the
    model's own law even at 500 steps (``benchmarks/solver_accuracy.py``).

    Args:
        network: ``network(x, s, **condition) -> ε`` with ``x`` of shape
            ``(batch, *event_shape)`` and ``s`` of shape ``(batch,)``. Its
            parameters are frozen: fine-tuning lives in a drift correction.
        event_shape: shape of one sample.
        schedule: the VP schedule the network was trained with.
        s_min: where generation stops; σ_s → 0 as s → 0.

    Example:
        >>> sde = PretrainedSDE(my_eps_net, event_shape=(1, 8, 8), schedule=VPSchedule(0.1, 20.0))
        >>> f = sde.drift(torch.tensor(0.5), torch.randn(4, 1, 8, 8))   # (4, 1, 8, 8)
    """

    preferred_method = "midpoint"

    def __init__(
        self,
        network: nn.Module,
        event_shape: tuple[int, ...],
        schedule: VPSchedule | None = None,
        s_min: float = 1e-3,
    ) -> None:
        if not 0 < s_min < 1:
            raise ValueError(f"s_min must lie in (0, 1), got {s_min}")
        super().__init__(event_shape, t0=0.0, t1=1.0 - s_min)
        if hasattr(network, "check_event_shape"):
            network.check_event_shape(self.event_shape)
        self.network = network.requires_grad_(False)
        self.schedule = schedule or VPSchedule()
        self.s_min = float(s_min)
        self.condition: dict[str, Tensor] = {}

    @contextmanager
    def conditioned(self, **condition: Tensor) -> Iterator["PretrainedSDE"]:
        """Pass ``condition`` (e.g. text embeddings) to every network call inside the block."""
        previous, self.condition = self.condition, condition
        try:
            yield self
        finally:
            self.condition = previous

    def eps(self, t: Tensor, x: Tensor) -> Tensor:
        """ε(x, s) at generation time ``t``, checked against the shape of ``x``."""
        s = (1.0 - t).expand(x.shape[0]).to(x)
        out = self.network(x, s, **self.condition)
        if out.shape != x.shape:
            raise ValueError(
                f"eps network returned shape {tuple(out.shape)} for input of shape {tuple(x.shape)}; "
                "an ε-prediction network must return the shape of its input"
            )
        return out

    def drift_from_eps(self, t: Tensor, x: Tensor, eps: Tensor) -> Tensor:
        """f(t, x) = ½β(s)x - β(s)ε/σ_s given ε already evaluated at ``(t, x)``."""
        s = 1.0 - t
        beta = self.schedule.beta(s)
        return 0.5 * beta * x - beta * eps / self.schedule.sigma(s)

    def drift(self, t: Tensor, x: Tensor) -> Tensor:
        return self.drift_from_eps(t, x, self.eps(t, x))

    def diffusion(self, t: Tensor) -> Tensor:
        return torch.sqrt(self.schedule.beta(1.0 - t))
