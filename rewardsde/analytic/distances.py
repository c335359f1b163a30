"""Distances between samples and an exact target law."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from .mixture import GaussianMixture


def sliced_wasserstein(a: Tensor, b: Tensor, projections: int = 256, seed: int = 0) -> Tensor:
    """Sliced 2-Wasserstein distance between two equal-size samples ``(n, D)``.

    ``SW₂² = E_θ W₂²(θᵀa, θᵀb)`` over uniform directions θ, with the 1-D
    distances computed exactly by sorting. The same ``seed`` uses the same directions.
    """
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"need two samples of the same shape (n, D); got {tuple(a.shape)} and {tuple(b.shape)}")
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(a.shape[1], projections, generator=generator, dtype=torch.float64)
    directions = directions / directions.norm(dim=0, keepdim=True)
    pa = torch.sort(a.double().cpu() @ directions, dim=0).values
    pb = torch.sort(b.double().cpu() @ directions, dim=0).values
    return (pa - pb).pow(2).mean().sqrt()


def mixture_weight_tv(samples: Tensor, target: GaussianMixture) -> Tensor:
    """Total variation between the target's weights and those seen in ``samples``.

    The weights seen are the mean posterior responsibilities ``p(k | x)``: for
    samples drawn from the target their expectation is exactly ``w_k``.
    """
    observed = target.responsibilities(samples).mean(0)
    return 0.5 * (observed - target.weights).abs().sum()


@dataclass
class TargetDistance:
    """How far samples are from an exact target; ``*_floor`` is the same figure for
    an independent exact sample of the same size (the noise floor)."""

    mean_error: float
    covariance_error: float
    weight_tv: float
    sliced_wasserstein: float
    mean_error_floor: float
    covariance_error_floor: float
    weight_tv_floor: float
    sliced_wasserstein_floor: float


def target_distance_dict(samples: Tensor, target: GaussianMixture, seed: int = 0) -> dict[str, float]:
    """:func:`target_distance` as a dict, without the mode-weight fields when the
    target has a single component (there they are 0 by construction)."""
    distance = asdict(target_distance(samples, target, seed=seed))
    if len(target.weights) == 1:
        distance = {k: v for k, v in distance.items() if not k.startswith("weight_tv")}
    return distance


def target_distance(samples: Tensor, target: GaussianMixture, seed: int = 0) -> TargetDistance:
    """Mean error ‖x̄ - E x‖, covariance error ‖Ĉ - C‖_F, weight TV and sliced W₂ of
    ``samples`` ``(n, D)`` to ``target``, each beside its noise floor."""
    samples = samples.detach().double().cpu().flatten(1)
    generator = torch.Generator().manual_seed(seed)
    reference = target.sample(samples.shape[0], generator)
    floor = target.sample(samples.shape[0], generator)

    def moments(x: Tensor) -> tuple[float, float, float]:
        mean_error = (x.mean(0) - target.mean()).norm().item()
        covariance_error = (torch.cov(x.T).reshape(target.dim, target.dim) - target.covariance()).norm().item()
        return mean_error, covariance_error, mixture_weight_tv(x, target).item()

    measured, noise = moments(samples), moments(floor)
    return TargetDistance(
        *measured,
        sliced_wasserstein=sliced_wasserstein(samples, reference, seed=seed).item(),
        mean_error_floor=noise[0],
        covariance_error_floor=noise[1],
        weight_tv_floor=noise[2],
        sliced_wasserstein_floor=sliced_wasserstein(floor, reference, seed=seed).item(),
    )
