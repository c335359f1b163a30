"""torchsde's fixed-step solvers in unit steps, as a plain loop without its machinery."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .step_noise import StepNoise

LOOP_METHODS = ("euler", "midpoint", "heun", "reversible_heun")


def integrate(
    sde: nn.Module, y0: Tensor, steps: int, method: str, noise: StepNoise, graph_from: int = 0,
    keep_path: bool = False,
) -> Tensor:
    """``y_N`` (or the path ``y_0..y_N``) of ``sde`` with diagonal noise, over ``τ = 0, 1, …, steps``.

    ``sde`` has ``f_and_g(τ, y) -> (f, g)`` in unit solver time, and ``ξ_k`` is
    ``noise.increment(k)``. The steps are torchsde's, operation for operation, so the
    values equal ``torchsde.sdeint(sde, y0, [0, steps], bm=noise, method=method, dt=1)``:

        euler:            y' = y + f(k, y) + g(k, y)·ξ_k
        midpoint:         ŷ = y + ½f(k, y) + ½g(k, y)·ξ_k,   y' = y + f(k + ½, ŷ) + g(k + ½, ŷ)·ξ_k
        heun:             ŷ = y + f(k, y) + g(k, y)·ξ_k,     y' = y + ½(f(k, y) + f(k + 1, ŷ) + (g(k, y) + g(k + 1, ŷ))·ξ_k)
        reversible_heun:  z' = 2y - z + f_k + g_k·ξ_k,  f_{k+1} = f(k + 1, z'),  y' = y + ½(f_k + f_{k+1}) + ½(g_k + g_{k+1})·ξ_k

    What the loop saves is torchsde's per-step bookkeeping (interpolation, time
    checks, the ``BrownianInterval`` tree): about 10% of a small model's solve.

    Args:
        sde: the SDE in unit steps.
        y0: start states ``(batch, d)``.
        steps: number of unit steps.
        method: one of :data:`LOOP_METHODS`.
        noise: the Brownian increments.
        graph_from: steps before this one run without a graph and ``y0`` is detached
            when it is positive (the truncated back end); ``0`` keeps autograd's mode.
        keep_path: return ``(steps + 1, batch, d)`` instead of ``y_N``.
    """
    if method not in LOOP_METHODS:
        raise ValueError(f"integrate runs {', '.join(LOOP_METHODS)}; got {method!r}")
    times = torch.arange(steps + 1, dtype=y0.dtype, device=y0.device)
    halves = (times[:-1] + 0.5).unbind()
    times = times.unbind()
    y = y0.detach() if graph_from > 0 else y0
    path = [y] if keep_path else None
    state = None

    def advance(k: int, y: Tensor, state: tuple | None) -> tuple[Tensor, tuple | None]:
        xi = noise.increment(k)
        if method == "reversible_heun":
            f, g, z = state if state is not None else (*sde.f_and_g(times[0], y), y)
            z = 2 * y - z + f + g * xi
            f_next, g_next = sde.f_and_g(times[k + 1], z)
            return y + (f + f_next) * 0.5 + (g + g_next) * (0.5 * xi), (f_next, g_next, z)
        f, g = sde.f_and_g(times[k], y)
        if method == "euler":
            return y + f + g * xi, None
        if method == "midpoint":
            f_half, g_half = sde.f_and_g(halves[k], y + 0.5 * f + 0.5 * (g * xi))
            return y + f_half + g_half * xi, None
        g_xi = g * xi
        f_end, g_end = sde.f_and_g(times[k + 1], y + f + g_xi)
        return y + (f + f_end + g_xi + g_end * xi) * 0.5, None

    # Steps before ``graph_from`` run without a graph; the rest in the caller's autograd mode
    # (no context manager entered per step).
    for k in range(steps):
        if k < graph_from:
            with torch.no_grad():
                y, state = advance(k, y, state)
        else:
            y, state = advance(k, y, state)
        if keep_path:
            path.append(y)
    return torch.stack(path) if keep_path else y
