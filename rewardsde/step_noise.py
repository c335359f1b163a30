"""The Brownian path of a fixed-step solve, drawn one step at a time from its seed."""

from __future__ import annotations

import torch
from torch import Tensor
from torchsde._brownian.brownian_base import BaseBrownian

_MASK = (1 << 64) - 1


def step_seed(seed: int, k: int) -> int:
    """A 63-bit seed for step ``k`` of the path with ``seed``: SplitMix64 of ``seed·2⁶⁴⁻¹ + k``.

    Distinct ``(seed, k)`` pairs give well-mixed, practically independent seeds, so
    the increments of different steps and different paths do not share a stream.
    """
    z = (seed * 0x9E3779B97F4A7C15 + k + 1) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) >> 1


class StepNoise(BaseBrownian):
    """Brownian motion on the unit grid ``τ = 0, 1, …, steps``, one increment per step.

    ``W(k + 1) - W(k) = ξ_k ~ N(0, I)`` of shape ``size``, drawn when asked from a
    generator seeded by :func:`step_seed` ``(seed, k)``: nothing is stored, any
    increment can be asked for again in any order (the reversible-Heun adjoint asks
    for each twice, forwards then backwards) and comes back bit for bit, and asking
    costs one ``randn`` of the state's size. A torchsde ``BrownianInterval`` gives the
    same law with a tree of cached intervals, at about 13% of a small model's
    gradient-free solve; our fixed-step solvers never ask for anything finer than a step.

    It is a torchsde ``BaseBrownian``, so ``torchsde.sdeint`` and ``sdeint_adjoint``
    accept it for solvers that ask only for whole-step increments (not ``srk``, which
    needs Lévy areas: :func:`rewardsde.solve` keeps ``BrownianInterval`` for it).

    Args:
        steps: number of unit steps.
        size: shape of one increment, ``(batch, d)``.
        seed: the path's seed; ``None`` draws one from torch's global generator.
        dtype, device: of the increments.
    """

    def __init__(
        self, steps: int, size: tuple[int, ...], seed: int | None = None, dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.steps = steps
        self.seed = int(torch.randint(0, 2**62, ())) if seed is None else seed
        self._shape, self._dtype = tuple(size), dtype
        self._device = torch.device("cpu") if device is None else torch.device(device)
        # One generator, re-seeded per step; on a device without generators (mps) draw on the CPU.
        self._generator = torch.Generator(device=self._device if self._device.type in ("cpu", "cuda") else "cpu")

    def increment(self, k: int) -> Tensor:
        """``W(k + 1) - W(k)``, shape ``size``."""
        if not 0 <= k < self.steps:
            raise ValueError(f"step k must lie in [0, {self.steps}), got {k}")
        generator = self._generator.manual_seed(step_seed(self.seed, k))
        noise = torch.randn(self._shape, generator=generator, dtype=self._dtype, device=generator.device)
        return noise if generator.device == self._device else noise.to(self._device)

    def __call__(self, ta, tb=None, return_U: bool = False, return_A: bool = False) -> Tensor:
        """``W(tb) - W(ta)`` for grid points ``ta ≤ tb`` (``W(ta)`` when ``tb`` is ``None``)."""
        if return_U or return_A:
            raise ValueError("StepNoise has no Lévy areas; use torchsde.BrownianInterval for solvers that need them")
        ta, tb = (0, self._grid_point(ta)) if tb is None else (self._grid_point(ta), self._grid_point(tb))
        if ta > tb:
            raise ValueError(f"need ta <= tb, got {ta} and {tb}")
        if tb == ta + 1:
            return self.increment(ta)
        total = torch.zeros(self._shape, dtype=self._dtype, device=self._device)
        for k in range(ta, tb):
            total = total + self.increment(k)
        return total

    def _grid_point(self, t) -> int:
        value = float(t)
        point = round(value)
        if abs(value - point) > 1e-6 or not 0 <= point <= self.steps:
            raise ValueError(f"StepNoise answers on the grid 0, 1, …, {self.steps} only, got time {value}")
        return point

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def levy_area_approximation(self) -> str:
        return "none"

    def __repr__(self) -> str:
        return f"StepNoise(steps={self.steps}, size={self._shape}, seed={self.seed})"
