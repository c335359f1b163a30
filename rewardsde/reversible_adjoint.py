"""The exact adjoint of the reversible Heun solver, with one drift call per backward step."""

from __future__ import annotations

import torch
import torchsde
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from .step_noise import StepNoise


def reversible_heun_adjoint(
    sde: nn.Module, y0: Tensor, steps: int, brownian: torchsde.BrownianInterval, params: tuple[Tensor, ...]
) -> Tensor:
    """``y_N`` of the reversible Heun solve of ``sde`` over ``τ = 0, 1, …, steps``, with O(1)-memory gradients.

    ``sde`` has ``f_and_g(τ, y) -> (f, g)`` with diagonal noise, in unit steps
    (``dτ = 1``), and ``g`` must not depend on ``y`` or on ``params``. The forward pass
    is torchsde's ``reversible_heun`` step for step (the same values):

        z_{k+1} = 2y_k − z_k + f_k + g_k·ΔW_k,      f_{k+1} = f(k + 1, z_{k+1}),
        y_{k+1} = y_k + ½(f_k + f_{k+1}) + ½(g_k + g_{k+1})·ΔW_k,      z_0 = y_0.

    The map is algebraically reversible, ``z_k = 2y_{k+1} − z_{k+1} − f_{k+1} − g_{k+1}·ΔW_k``
    and then ``y_k`` from the second line, so the backward pass rebuilds the states
    from the end instead of storing them, and backpropagates each step exactly: the
    gradients are those of direct backprop through the same chain, up to floating
    point. With cotangents ``(ȳ, z̄, f̄)`` of ``(y_{k+1}, z_{k+1}, f_{k+1})``, one step back is

        f̄ += ½ȳ;   z̄ += J_f(z_{k+1})ᵀf̄;   (ȳ, z̄, f̄) ← (ȳ + 2z̄, −z̄, ½ȳ + z̄),

    with ``J_f`` also giving the parameters' gradients. The drift evaluation that
    rebuilds ``z_k`` keeps its graph for the next step's vector-Jacobian product, so a
    backward step costs one drift call and one vector-Jacobian product. torchsde's
    ``adjoint_reversible_heun`` evaluates the drift twice per backward step (its source
    notes the spare call), which is about one drift call in five of a training step.

    Args:
        sde: the drift ``f`` and noise ``g`` in unit solver time.
        y0: start states, shape ``(batch, d)``.
        steps: number of unit steps.
        brownian: the Brownian motion on ``[0, steps]``; the same one gives the same path.
        params: the tensors to differentiate besides ``y0`` (those ``f`` uses that need gradients).

    Returns:
        ``y_N``, shape ``(batch, d)``.
    """
    return _ReversibleHeun.apply(sde, brownian, steps, y0, *params)


class _ReversibleHeun(torch.autograd.Function):
    @staticmethod
    def forward(ctx, sde, brownian, steps, y0, *params):
        times = torch.arange(steps + 1, dtype=y0.dtype, device=y0.device)
        with torch.inference_mode():  # nothing of the forward pass is kept but its end
            y, z = y0, y0
            f, g = sde.f_and_g(times[0], y)
            for k in range(steps):
                increment = _increment(brownian, times, k)
                z_next = 2 * y - z + f + g * increment
                f_next, g_next = sde.f_and_g(times[k + 1], z_next)
                y = y + (f + f_next) * 0.5 + (g + g_next) * (0.5 * increment)
                z, f, g = z_next, f_next, g_next
        y, z, f = y.clone(), z.clone(), f.clone()  # ordinary tensors again, which autograd can save
        ctx.sde, ctx.brownian, ctx.times = sde, brownian, times
        ctx.save_for_backward(y, z, f, *params)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, y_bar):
        y, z, f, *params = ctx.saved_tensors
        sde, brownian, times = ctx.sde, ctx.brownian, ctx.times
        steps = len(times) - 1
        z_bar, f_bar = torch.zeros_like(y), torch.zeros_like(y)
        param_bars = [torch.zeros_like(p) for p in params]
        z_leaf, f_graph, g = _drift_with_graph(sde, times[steps], z)
        for k in range(steps, -1, -1):
            if k < steps:  # multiplying by 2 or ½ is exact, so add(alpha=...) fuses without rounding
                y_bar, z_bar, f_bar = y_bar.add(z_bar, alpha=2), z_bar.neg(), z_bar.add(y_bar, alpha=0.5)
            f_bar = f_bar.add(y_bar, alpha=0.5) if k > 0 else f_bar
            z_vjp, *param_vjps = torch.autograd.grad(f_graph, (z_leaf, *params), f_bar, allow_unused=True)
            z_bar = z_bar + z_vjp
            used = [(bar, vjp) for bar, vjp in zip(param_bars, param_vjps) if vjp is not None]
            if used:
                torch._foreach_add_([bar for bar, _ in used], [vjp for _, vjp in used])
            if k == 0:
                break
            increment = _increment(brownian, times, k - 1)
            z = 2 * y - z - f - g * increment
            z_leaf, f_graph, g_previous = _drift_with_graph(sde, times[k - 1], z)
            f_previous = f_graph.detach()
            y = y - (f_previous + f) * 0.5 - (g_previous + g) * (0.5 * increment)
            f, g = f_previous, g_previous
        return (None, None, None, y_bar + z_bar, *param_bars)


def _drift_with_graph(sde: nn.Module, t: Tensor, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(z as a leaf, f(t, z), g(t))`` with the drift's graph kept for a vector-Jacobian product."""
    z_leaf = z.detach().requires_grad_()
    with torch.enable_grad():
        f, g = sde.f_and_g(t, z_leaf)
    return z_leaf, f, g.detach()


def _increment(brownian, times: Tensor, k: int) -> Tensor:
    """``W(k + 1) - W(k)``: straight from a :class:`StepNoise`, else by asking the Brownian motion."""
    return brownian.increment(k) if isinstance(brownian, StepNoise) else brownian(times[k], times[k + 1])
