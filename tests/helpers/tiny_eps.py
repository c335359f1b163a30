"""A tiny ε-network on 2-D data with named linear layers, for LoRA targets."""

import torch
from torch import nn


class TinyEps(nn.Module):
    """``ε(x, s) = outer(tanh(inner([x, s])))`` with layers named ``inner`` and ``outer``."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 16)
        self.outer = nn.Linear(16, 2)

    def forward(self, x, s):
        return self.outer(torch.tanh(self.inner(torch.cat([x, s[:, None]], 1))))
