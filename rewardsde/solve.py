"""One call to simulate a :class:`ControlledSDE`, with three gradient back ends."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torchsde
from torch import Tensor, nn

from .controlled import ControlledSDE
from .reversible_adjoint import reversible_heun_adjoint
from .step_noise import StepNoise
from .stepping import LOOP_METHODS, integrate

BACKENDS = ("adjoint", "direct", "truncated")

SDE_TYPE = {
    "euler": "ito",
    "milstein": "ito",
    "srk": "ito",
    "reversible_heun": "stratonovich",
    "midpoint": "stratonovich",
    "heun": "stratonovich",
}

DEFAULT_ADJOINT_METHOD = {
    "reversible_heun": "adjoint_reversible_heun",
    "euler": "euler",
    "milstein": "milstein",
    "srk": "srk",
    "midpoint": "midpoint",
    "heun": "heun",
}


@dataclass
class Solution:
    """The end of a solve.

    Attributes:
        x: terminal samples ``x_T``, shape ``(batch, *event_shape)``.
        running_cost: ``∫½‖a‖²dt`` along each path, shape ``(batch,)``.
        previous_cost: ``∫½‖a - a_prev‖²dt`` along each path, shape ``(batch,)``, when
            the SDE tracks a previous control (``ControlledSDE(previous=True)``); else ``None``.
    """

    x: Tensor
    running_cost: Tensor
    previous_cost: Tensor | None = None


def solve(
    sde: ControlledSDE,
    x0: Tensor,
    steps: int,
    *,
    backend: str = "adjoint",
    method: str | None = None,
    adjoint_method: str | None = None,
    truncate: int | None = None,
    seed: int | None = None,
) -> Solution:
    """Simulate ``sde`` from ``x0`` over ``[t0, t1]`` in ``steps`` equal steps.

    Back ends (all give the same forward values for the same ``seed``):
        ``adjoint``: memory flat in ``steps``. With ``reversible_heun`` (the
            default for Brownian references) it is
            :func:`rewardsde.reversible_adjoint.reversible_heun_adjoint`, whose
            gradients equal direct backprop up to floating point, at one drift call
            and one vector-Jacobian product per backward step; with any other
            method it is ``torchsde.sdeint_adjoint`` with ``adjoint_method``.
        ``direct``: backprop through ``torchsde.sdeint``; set
            ``sde.checkpoint = True`` to recompute network calls in the backward pass.
        ``truncated``: gradients flow through the drift evaluated in the last
            ``truncate`` steps only, ``τ ≥ N - K`` in solver time (the DRaFT-K /
            AlignProp estimator); earlier drift calls run without a graph, and ``x0``
            gets no gradient when ``K < N``. One uninterrupted solve, so a solver
            with state of its own (reversible Heun's ``z``) steps exactly as ``direct``.

    Args:
        sde: the controlled SDE.
        x0: start states, shape ``(batch, *event_shape)``.
        steps: number of solver steps.
        backend: one of ``adjoint``, ``direct``, ``truncated``.
        method: a torchsde fixed-step solver (``reversible_heun``, ``euler``,
            ``midpoint``, ``heun``, ``milstein``, ``srk``); by default the reference
            SDE's ``preferred_method``.
        adjoint_method: solver for the adjoint pass; defaults to the partner of ``method``
            (``reversible_heun`` has only its exact adjoint, ``adjoint_reversible_heun``).
        truncate: number of differentiated steps for ``truncated``.
        seed: the seed of the Brownian path; the same seed gives the same noise.

    The fixed-step methods ``euler``, ``midpoint``, ``heun`` and ``reversible_heun``
    run as a plain loop (:func:`rewardsde.stepping.integrate`) on a
    :class:`rewardsde.step_noise.StepNoise` path, with torchsde's step formulas and
    values; ``milstein`` and ``srk``, and the adjoint of every method but reversible
    Heun, go through ``torchsde.sdeint``/``sdeint_adjoint`` (``srk`` on a
    ``BrownianInterval``, for its Lévy areas).
    """
    method = method or sde.reference.preferred_method
    check_solver_options(backend, method, steps, adjoint_method, truncate)
    shape = tuple(sde.reference.event_shape)
    if x0.dim() < 2 or tuple(x0.shape[1:]) != shape:
        raise ValueError(f"x0 must have shape (batch, *{shape}), got {tuple(x0.shape)}")
    batch = x0.shape[0]
    costs = sde.cost_states
    y0 = torch.cat([x0.reshape(batch, -1), x0.new_zeros(batch, costs)], dim=1)
    stepped = _UnitSteps(sde, steps, method)
    brownian = brownian_path(method, adjoint_method if backend == "adjoint" else None, steps, y0, seed)

    def grid(*points: float) -> Tensor:
        return torch.tensor(points, dtype=y0.dtype, device=y0.device)

    trained = tuple(p for p in stepped.parameters() if p.requires_grad)
    if backend == "adjoint" and method == "reversible_heun":
        y = reversible_heun_adjoint(stepped, y0, steps, brownian, trained)
    elif backend == "adjoint":
        y = torchsde.sdeint_adjoint(
            stepped,
            y0,
            grid(0, steps),
            bm=brownian,
            method=method,
            adjoint_method=adjoint_method or DEFAULT_ADJOINT_METHOD[method],
            dt=1.0,
            adjoint_params=trained,
        )[-1]
    elif method in LOOP_METHODS:
        y = integrate(stepped, y0, steps, method, brownian, graph_from=steps - truncate if backend == "truncated" else 0)
    elif backend == "direct":
        y = torchsde.sdeint(stepped, y0, grid(0, steps), bm=brownian, method=method, dt=1.0)[-1]
    else:
        split = steps - truncate
        start = y0.detach() if split > 0 else y0
        y = torchsde.sdeint(_Truncated(stepped, split), start, grid(0, steps), bm=brownian, method=method, dt=1.0)[-1]

    size = sde.reference.event_size
    previous_cost = y[:, size + 1] if costs == 2 else None
    return Solution(x=y[:, :size].reshape(x0.shape), running_cost=y[:, size], previous_cost=previous_cost)


@torch.no_grad()
def trajectory(sde: ControlledSDE, x0: Tensor, steps: int, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """The Euler–Maruyama path of ``sde`` from ``x0``, without gradients.

    ``x_{k+1} = x_k + h·(f + σa)(t_k, x_k) + σ(t_k)·ΔW_k`` on the grid
    ``t_k = t0 + k·h``, ``h = (t1 - t0)/steps``, with the Brownian motion of
    :func:`solve` for the same ``seed`` (so the end equals ``solve(..., method="euler")``).

    Returns:
        ``(path, running_cost)``: the states ``(steps + 1, batch, *event_shape)`` and
        ``∫½‖a‖²dt`` along each path ``(batch,)``.
    """
    shape = tuple(sde.reference.event_shape)
    if x0.dim() < 2 or tuple(x0.shape[1:]) != shape:
        raise ValueError(f"x0 must have shape (batch, *{shape}), got {tuple(x0.shape)}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    batch, size = x0.shape[0], sde.reference.event_size
    y0 = torch.cat([x0.reshape(batch, -1), x0.new_zeros(batch, sde.cost_states)], dim=1)
    noise = StepNoise(steps, tuple(y0.shape), seed, y0.dtype, y0.device)
    ys = integrate(_UnitSteps(sde, steps, "euler"), y0, steps, "euler", noise, keep_path=True)
    return ys[:, :, :size].reshape(steps + 1, *x0.shape), ys[-1, :, size]


def brownian_path(method: str, adjoint_method: str | None, steps: int, y0: Tensor, seed: int | None):
    """The Brownian motion of a solve: a :class:`StepNoise` unless a solver needs Lévy areas (``srk``)."""
    if "srk" in (method, adjoint_method):
        return torchsde.BrownianInterval(
            t0=0.0, t1=float(steps), size=tuple(y0.shape), dtype=y0.dtype, device=y0.device, entropy=seed, dt=1.0,
            levy_area_approximation="space-time",
        )
    return StepNoise(steps, tuple(y0.shape), seed, y0.dtype, y0.device)


class _UnitSteps(nn.Module):
    """``sde`` in solver time ``τ = (t - t0)/h`` with ``h = (t1 - t0)/steps``: unit steps.

    ``dy = h·F(t0 + hτ, y)dτ + √h·G(t0 + hτ)dW_τ`` is the same SDE. Its grid
    ``0, 1, …, steps`` is exact in floating point, forwards and backwards, so the
    solver takes exactly ``steps`` steps (no sliver step from rounding) and the
    reversible-Heun adjoint retraces the forward grid point for point, which its
    exactness needs.
    """

    noise_type = "diagonal"

    def __init__(self, sde: ControlledSDE, steps: int, method: str) -> None:
        super().__init__()
        self.sde = sde
        self.sde_type = SDE_TYPE[method]
        self.origin = sde.reference.t0
        self.h = (sde.reference.t1 - sde.reference.t0) / steps
        self.sqrt_h = math.sqrt(self.h)
        # √h on the sample's coordinates, 0 on the costs': g = σ(t)·row, one multiply per call.
        self.register_buffer("noise_row", self.sqrt_h * sde.noise_mask, persistent=False)
        self.register_buffer("drift_row", self.h * sde.drift_row, persistent=False)

    def time(self, tau: Tensor) -> Tensor:
        """``t = t0 + h·τ``."""
        return self.h * tau + self.origin if self.origin else self.h * tau

    def f(self, tau: Tensor, y: Tensor) -> Tensor:
        return self.h * self.sde.f(self.time(tau), y)

    def g(self, tau: Tensor, y: Tensor) -> Tensor:
        return (self.sde.reference.diffusion(self.time(tau)) * self.noise_row).expand_as(y)

    def f_and_g(self, tau: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Both in unit time; ``g`` is the same for every row, so it is one row ``σ(t)·√h·mask``
        expanded, not a full ``(batch, d)`` tensor; ``h`` joins the costs' ½ in one row."""
        f, sigma = self.sde.f_and_sigma(self.time(tau), y, self.drift_row)
        return f, (sigma * self.noise_row).expand_as(y)


class _Truncated(nn.Module):
    """``stepped`` with its drift computed without a graph before solver time ``split``."""

    def __init__(self, stepped: _UnitSteps, split: int) -> None:
        super().__init__()
        self.stepped, self.split = stepped, split
        self.noise_type, self.sde_type = stepped.noise_type, stepped.sde_type

    def f(self, tau: Tensor, y: Tensor) -> Tensor:
        if float(tau) < self.split:
            with torch.no_grad():
                return self.stepped.f(tau, y)
        return self.stepped.f(tau, y)

    def g(self, tau: Tensor, y: Tensor) -> Tensor:
        return self.stepped.g(tau, y)


def check_solver_options(
    backend: str, method: str | None, steps: int, adjoint_method: str | None = None, truncate: int | None = None
) -> None:
    """Raise ``ValueError`` naming the first bad option of :func:`solve`."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if method is not None and method not in SDE_TYPE:
        raise ValueError(f"unknown solver method {method!r}; choose one of {', '.join(SDE_TYPE)}")
    if adjoint_method is not None and adjoint_method not in DEFAULT_ADJOINT_METHOD.values():
        choices = ", ".join(sorted(set(DEFAULT_ADJOINT_METHOD.values())))
        raise ValueError(f"unknown adjoint_method {adjoint_method!r}; choose one of {choices}")
    if method == "reversible_heun" and backend == "adjoint" and adjoint_method not in (None, "adjoint_reversible_heun"):
        raise ValueError("method 'reversible_heun' needs adjoint_method 'adjoint_reversible_heun'")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if backend == "truncated" and (truncate is None or not 1 <= truncate <= steps):
        raise ValueError(f"backend 'truncated' needs 1 <= truncate <= steps ({steps}), got truncate={truncate!r}")
