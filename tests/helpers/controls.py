"""A learnable constant control, whose optimum on the Brownian prior is known in closed form."""

import torch
from torch import nn

from rewardsde.corrections import DriftCorrection


class ConstantControl(DriftCorrection):
    """``a(t, x) = θ``: on ``dx = a dt + dW`` from ``x_0 = 0``, ``x_1 = θ + W_1`` and ``∫½a²dt = ½θ²``."""

    def __init__(self, value: float, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([value], dtype=dtype))

    def forward(self, t, x):
        return self.reference.drift(t, x), self.theta.expand_as(x)
