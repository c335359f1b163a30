"""A learned, differentiable reward on one-hot sequences, fitted to a small labelled subset."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..nets import MLP
from .onehot import check_one_hot_shape


class SurrogateReward(nn.Module):
    """``r_θ(x) = μ + σ·g_θ(flatten x)``: an MLP on one-hot sequences ``(batch, num_states, length)``.

    ``μ`` and ``σ`` are the mean and standard deviation of the labels it was fitted
    to (buffers), so ``g_θ`` learns standardised targets. Unlike the genuine rewards,
    which decode by argmax, ``r_θ`` is differentiable in ``x``; it is the reward to
    backpropagate through, and the learned side of an overoptimisation study.

    Args:
        num_states: alphabet size.
        length: sequence length.
        hidden: MLP width.
        depth: MLP hidden layers.
    """

    def __init__(self, num_states: int, length: int, hidden: int = 128, depth: int = 2) -> None:
        super().__init__()
        self.num_states = num_states
        self.length = length
        self.net = MLP(num_states * length, 1, hidden=hidden, depth=depth, timed=False)
        self.register_buffer("mean", torch.tensor(0.0))
        self.register_buffer("std", torch.tensor(1.0))

    def forward(self, x: Tensor) -> Tensor:
        check_one_hot_shape(x, self.num_states, self.length)
        return self.mean + self.std * self.net(x).squeeze(1)


@dataclass
class SurrogateFit:
    """What :func:`fit_surrogate` measured on the held-out split at its best epoch."""

    epochs: int
    best_epoch: int
    held_out_mse: float
    held_out_correlation: float


def fit_surrogate(
    x: Tensor,
    y: Tensor,
    held_out: float = 0.2,
    max_epochs: int = 200,
    patience: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    seed: int = 0,
    hidden: int = 128,
    depth: int = 2,
) -> tuple[SurrogateReward, SurrogateFit]:
    """Fit a :class:`SurrogateReward` to labels ``y`` ``(n,)`` of sequences ``x`` ``(n, num_states, length)``.

    The initial weights and a random ``held_out`` fraction follow ``seed`` (the global
    RNG is left as it was). The held-out fraction is kept aside. Adam minimises the mean
    squared error of the standardised labels on the rest; training stops after
    ``patience`` epochs without a lower held-out error, and the weights of the best
    epoch are returned with the held-out MSE and Pearson correlation there.

    Raises:
        ValueError: for mismatched shapes, non-finite labels, or a split that leaves
            fewer than 2 rows on either side.
    """
    if x.dim() != 3 or y.shape != (x.shape[0],):
        raise ValueError(f"need x of shape (n, num_states, length) and y of shape (n,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if not torch.isfinite(y).all():
        raise ValueError(f"labels must be finite; got {(~torch.isfinite(y)).sum().item()} non-finite")
    n_held = int(round(held_out * x.shape[0]))
    if n_held < 2 or x.shape[0] - n_held < 2:
        raise ValueError(f"held_out={held_out} of {x.shape[0]} rows leaves fewer than 2 rows on one side")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(x.shape[0], generator=generator)
    x, y = x.float(), y.float()
    train, held = order[n_held:], order[:n_held]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = SurrogateReward(x.shape[1], x.shape[2], hidden=hidden, depth=depth)
    model.mean.fill_(y[train].mean())
    model.std.fill_(y[train].std().clamp_min(1e-8))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_epoch, best_state, epoch = float("inf"), 0, copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        for rows in train[torch.randperm(len(train), generator=generator)].split(batch_size):
            loss = ((model(x[rows]) - y[rows]) / model.std).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            error = (model(x[held]) - y[held]).pow(2).mean().item()
        if error < best:
            best, best_epoch, best_state = error, epoch, copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        predicted = model(x[held])
    correlation = torch.corrcoef(torch.stack([predicted, y[held]]))[0, 1].item()
    return model, SurrogateFit(epoch, best_epoch, best, correlation)
