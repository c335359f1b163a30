"""Fit the heads of an ensemble by least squares, with early stopping on a held-out split."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .heads import Heads


@dataclass
class FitReport:
    """How a fit went.

    Attributes:
        holdout_error: root-mean-square error of each head on the held-out split,
            with the weights kept, ``(H,)`` (in the units of the targets given).
        curve: held-out mean squared error of each head after each epoch, ``(epochs, H)``.
        best_epoch: the epoch whose weights each head kept, ``(H,)``.
    """

    holdout_error: Tensor
    curve: Tensor
    best_epoch: Tensor


def fit_heads(
    heads: Heads,
    z: Tensor,
    y: Tensor,
    generator: torch.Generator,
    *,
    holdout: float = 0.2,
    bootstrap: bool = False,
    epochs: int = 500,
    patience: int = 50,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    held: Tensor | None = None,
    max_steps: int | None = None,
) -> FitReport:
    """Minimise ``mean (g_h(z_i) - y_i)²`` over the training split for every head.

    A random ``holdout`` fraction of the rows (at least one) is held out, or the rows
    of the mask ``held`` when given; the rest train every head, or with ``bootstrap`` a
    resample with replacement of it per head. Adam, on the full training split each epoch (``batch_size=None``) or on
    minibatches of ``batch_size`` rows in an order drawn from ``generator`` afresh
    each epoch (the same order for every head); each head keeps the weights of its
    epoch with the lowest held-out error, and training stops once no head has
    improved for ``patience`` epochs, or once ``max_steps`` Adam steps were taken (the last
    epoch then ends early, and is scored as the others).

    Args:
        heads: the ensemble (trained in place).
        z: inputs ``(n, F)``; y: targets ``(n,)``.
        generator: drives the split, the resamples and the minibatch orders.
        batch_size: rows per Adam step; ``None``: the whole training split.
        max_steps: the most Adam steps of the fit (``None``: no limit but ``epochs``).
        held: ``(n,)`` bool, the held-out rows (at least one, not all); ``None``: a split drawn
            from ``generator``.
    """
    n = z.shape[0]
    if z.dim() != 2 or y.shape != (n,):
        raise ValueError(f"need z of shape (n, F) and y of shape (n,), got {tuple(z.shape)} and {tuple(y.shape)}")
    if n < 2:
        raise ValueError(f"need at least 2 labels to fit with a held-out split, got {n}")
    if not 0 < holdout < 1 or epochs < 1 or patience < 1:
        raise ValueError(f"need 0 < holdout < 1, epochs >= 1, patience >= 1; got {holdout}, {epochs}, {patience}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be positive or None, got {batch_size}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be positive or None, got {max_steps}")
    if held is None:
        order = torch.randperm(n, generator=generator)
        cut = min(max(int(round(holdout * n)), 1), n - 1)
        held, train = order[:cut], order[cut:]
    elif held.shape != (n,) or held.dtype != torch.bool or not 0 < int(held.sum()) < n:
        raise ValueError(f"held must be an ({n},) bool mask with at least one row held out and one not, got shape "
                         f"{tuple(held.shape)}, dtype {held.dtype}, {int(held.sum())} held out")
    else:
        held, train = held.nonzero().squeeze(1), (~held).nonzero().squeeze(1)
    if bootstrap:
        train = train[torch.randint(len(train), (heads.count, len(train)), generator=generator)]
    else:
        train = train.expand(heads.count, len(train))
    z_train, y_train = z[train], y[train]
    z_held, y_held = z[held], y[held]

    parameters = list(heads.parameters())
    best = [p.detach().clone() for p in parameters]
    best_error = torch.full((heads.count,), float("inf"), dtype=y.dtype)
    best_epoch = torch.zeros(heads.count, dtype=torch.long)
    optimizer = torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    curve, steps = [], 0
    with torch.enable_grad():
        for epoch in range(epochs):
            if batch_size is None:
                batches = [(z_train, y_train)]
            else:
                order = torch.randperm(z_train.shape[1], generator=generator).split(batch_size)
                batches = [(z_train[:, rows], y_train[:, rows]) for rows in order]
            if max_steps is not None:
                batches = batches[: max_steps - steps]
            for z_batch, y_batch in batches:
                loss = (heads(z_batch) - y_batch).pow(2).mean(1).sum()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            steps += len(batches)
            with torch.no_grad():
                error = (heads(z_held) - y_held).pow(2).mean(1)
                curve.append(error)
                better = error < best_error
                for saved, current in zip(best, parameters):
                    saved[better] = current[better]
                best_error = torch.where(better, error, best_error)
                best_epoch = torch.where(better, torch.full_like(best_epoch, epoch), best_epoch)
            if (epoch - best_epoch >= patience).all() or steps == max_steps:
                break
    with torch.no_grad():
        for saved, current in zip(best, parameters):
            current.copy_(saved)
    return FitReport(best_error.sqrt(), torch.stack(curve), best_epoch)
