"""Figures for TensorBoard: samples over the target, reward against KL, image grids."""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure
from torch import Tensor

from rewardsde.analytic import GaussianMixture


def samples_figure(samples: Tensor, target: GaussianMixture | None = None) -> Figure:
    """1-D: a histogram against the target density; 2-D: a scatter over its contours."""
    samples = samples.detach().double().cpu().flatten(1)
    figure = Figure(figsize=(5, 4))
    axis = figure.subplots()
    if samples.shape[1] == 1:
        axis.hist(samples[:, 0].numpy(), bins=60, density=True, alpha=0.6, label="samples")
        if target is not None:
            grid = torch.linspace(samples.min().item() - 1, samples.max().item() + 1, 400, dtype=torch.float64)
            axis.plot(grid.numpy(), target.log_prob(grid[:, None]).exp().numpy(), label="exact target")
        axis.set_xlabel("x")
        axis.legend()
    else:
        if target is not None:
            low, high = samples.min(0).values - 1, samples.max(0).values + 1
            gx, gy = torch.meshgrid(
                torch.linspace(low[0], high[0], 120, dtype=torch.float64),
                torch.linspace(low[1], high[1], 120, dtype=torch.float64),
                indexing="ij",
            )
            density = target.log_prob(torch.stack([gx.flatten(), gy.flatten()], 1)).exp().reshape(gx.shape)
            axis.contour(gx.numpy(), gy.numpy(), density.numpy(), levels=8, cmap="viridis")
        axis.scatter(samples[:, 0].numpy(), samples[:, 1].numpy(), s=3, alpha=0.4, color="black")
        axis.set_xlabel("x₁")
        axis.set_ylabel("x₂")
    axis.set_title("samples" + (" over the exact target" if target is not None else ""))
    figure.tight_layout()
    return figure


def reward_versus_kl_figure(history: list[dict]) -> Figure:
    """Reward against the KL estimate, one point per evaluation, shaded by step."""
    kl = [row["kl"] for row in history]
    steps = [row["step"] for row in history]
    figure = Figure(figsize=(5.5, 4))
    axis = figure.subplots()
    points = None
    for key, marker, label in (("learned", "o", "learned reward"), ("genuine", "s", "genuine reward")):
        values = [row.get(key) for row in history]
        if all(value is not None for value in values):
            points = axis.scatter(kl, values, c=steps, cmap="viridis", marker=marker, label=label)
    figure.colorbar(points, ax=axis, label="step")
    axis.set_xlabel("KL estimate to the pretrained model")
    axis.set_ylabel("mean reward")
    axis.set_title("reward versus KL")
    axis.legend()
    figure.tight_layout()
    return figure


def image_grid(images: Tensor, max_images: int = 64, padding: int = 1) -> Tensor:
    """``(n, C, H, W)`` in [-1, 1] to one grid in [0, 1], images ``padding`` pixels apart on mid-grey."""
    images = images[:max_images].detach().float().cpu().clamp(-1, 1).add(1).div(2)
    n, channels, height, width = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    step_h, step_w = height + padding, width + padding
    grid = images.new_full((channels, rows * step_h - padding, cols * step_w - padding), 0.5)
    for index, image in enumerate(images):
        row, col = divmod(index, cols)
        grid[:, row * step_h : row * step_h + height, col * step_w : col * step_w + width] = image
    return grid
