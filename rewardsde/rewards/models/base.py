"""The base of every reward model: an ensemble of small networks on a feature map."""

from __future__ import annotations

import hashlib
import math

import torch
from torch import Tensor, nn

from .cnn_heads import CNNHeads
from .fit import FitReport, fit_heads
from .heads import Heads
from ..store import row_key

NETWORKS = ("mlp", "cnn")


class RewardModel(nn.Module):
    """A learned reward ``r̂ + ĝ``: ensemble mean plus an optimism bonus.

    Labels ``y`` are standardised, ``ỹ = (y - m)/s``, and ``H`` heads fit ``ỹ``
    on features ``z = features(x)`` (the sample itself by default), flattened: MLPs
    (:class:`Heads`, ``network="mlp"``) or, for sequences, dilated 1-D CNNs over the
    ``(C, L)`` layout of ``features(x)`` (:class:`CNNHeads`, ``network="cnn"``).
    In reward units, head ``h`` predicts ``r_h(x) = m + s·g_h(z)``; the mean is ``r̂ = (1/H) Σ_h r_h``. Subclasses
    define the bonus ``ĝ`` (:meth:`bonus`); the optimistic reward
    ``forward(x) = r̂(x) + ĝ(x)`` is differentiable in ``x``, and is what
    fine-tuning backpropagates through. Every fit starts afresh from ``seed``, unless
    ``warm_start``. The parameters never require gradients outside :meth:`fit`.

    **Warm start** (``warm_start=True``, for rounds whose labels only grow, as SEIKO's). Every fit
    after the first continues from the last one's weights instead of fresh ones, with its output
    layer mapped to the new standardisation so that it starts from the last fit's predictions
    exactly: with ``(m₀, s₀)`` the old and ``(m, s)`` the new label mean and standard deviation,
    ``g ← (m₀ - m)/s + (s₀/s)·g``. Early stopping then needs a held-out split that never trained an
    earlier fit, so the split is kept from fit to fit: a design is held out when the hash of its
    values (:func:`rewardsde.rewards.store.row_key`, BLAKE2b), read as ``u ∈ [0, 1)``, is below
    ``holdout``, whatever order the labels come in. The point is cost, when each round adds a few
    labels to thousands, but a continued fit does not stop sooner by itself: its held-out error
    keeps falling for as long as a fresh fit's (on 3,000 labels of 2,048-bit fingerprints a fresh fit
    ran 62 to 74 epochs, three continued ones 200, 111 and 42; in ``benchmarks/pmo.py`` a SEIKO round
    still cost 14 ms more per label). With ``max_steps`` each continued fit takes a bounded step,
    and the training adds up over the rounds (``docs/howto/molecules.md``). Not for the bootstrap models (``BootstrapReward``, ``ThompsonReward``):
    each fit resamples the labels afresh, so over the rounds every head would see every label.
    A warm model's state holds a ``fitted`` flag, so its checkpoints load into warm models only.

    Args:
        heads: ensemble size ``H``.
        hidden, depth: width and number of hidden layers of each head (for
            ``network="cnn"``: channels and number of convolutions).
        features: a module ``x (n, ...) -> z (n, ...)``, e.g.
            :class:`rewardsde.domains.SimplexProjection`; ``None``: the identity.
            The same map is applied when fitting and when scoring.
        network: ``"mlp"`` or ``"cnn"`` (needs features of shape ``(n, C, L)``).
        kernel_size, pool, dense: the CNN's kernel size, pooling over positions
            (``"max"`` or ``"mean"``) and number of dense layers after it; see :class:`CNNHeads`.
        holdout, epochs, patience, lr, weight_decay, batch_size, max_steps: see :func:`fit_heads`.
        warm_start: continue every fit after the first from the last one's weights (above).
    """

    bootstrap = False

    def __init__(
        self,
        heads: int = 4,
        hidden: int = 64,
        depth: int = 2,
        features: nn.Module | None = None,
        network: str = "mlp",
        kernel_size: int = 5,
        pool: str = "max",
        dense: int = 0,
        holdout: float = 0.2,
        epochs: int = 500,
        patience: int = 50,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        batch_size: int | None = None,
        warm_start: bool = False,
        max_steps: int | None = None,
    ) -> None:
        super().__init__()
        if heads < 1:
            raise ValueError(f"heads must be positive, got {heads}")
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be positive or None, got {batch_size}")
        self.head_count, self.hidden, self.depth = heads, hidden, depth
        self.network, self.kernel_size, self.pool, self.dense = network, kernel_size, pool, dense
        self.features = features
        self.settings = dict(holdout=holdout, epochs=epochs, patience=patience, lr=lr, weight_decay=weight_decay)
        if batch_size is not None:
            self.settings["batch_size"] = batch_size
        if max_steps is not None:
            self.settings["max_steps"] = max_steps
        self.heads: Heads | CNNHeads | None = None
        self.register_buffer("label_mean", torch.zeros(()))
        self.register_buffer("label_std", torch.ones(()))
        if warm_start and self.bootstrap:
            raise ValueError(f"warm_start=True would let every head of a {type(self).__name__} see every label over the "
                             f"rounds (each fit resamples afresh), collapsing the spread its bonus reads; not supported")
        self.warm_start = bool(warm_start)
        if self.warm_start:  # a buffer, so that a resumed run continues from the checkpoint's fit
            self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def featurize(self, x: Tensor) -> Tensor:
        """``z = features(x)`` flattened, ``(n, F)``."""
        return (x if self.features is None else self.features(x)).flatten(1)

    def build(self, event_shape: tuple[int, ...]) -> None:
        """Create the heads for samples of ``event_shape`` (once; later calls do nothing)."""
        if self.heads is not None:
            return
        probe = torch.zeros(1, *event_shape)
        shape = tuple((probe if self.features is None else self.features(probe)).shape[1:])
        if self.network == "mlp":
            self.heads = Heads(self.head_count, math.prod(shape), self.hidden, self.depth)
        elif len(shape) != 2:
            raise ValueError(f"network='cnn' needs features of shape (n, channels, length), got (n, *{shape})")
        else:
            self.heads = CNNHeads(
                self.head_count, shape, self.hidden, self.depth, self.kernel_size, self.pool, self.dense
            )
        self.on_build()
        self.requires_grad_(False)

    def on_build(self) -> None:
        """Register what a subclass keeps between fits (buffers sized by the heads)."""

    def per_head(self, x: Tensor) -> Tensor:
        """``r_h(x)`` in reward units, ``(H, n)``."""
        if self.heads is None:
            raise ValueError(f"this {type(self).__name__} has no heads yet; call build(event_shape) first")
        return self.label_mean + self.label_std * self.heads(self.featurize(x))

    def mean(self, x: Tensor) -> Tensor:
        """``r̂(x)``, ``(n,)``."""
        return self.per_head(x).mean(0)

    def bonus(self, x: Tensor) -> Tensor:
        """``ĝ(x)``, ``(n,)``."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.mean(x) + self.bonus(x)

    def fit(self, x: Tensor, y: Tensor, seed: int) -> FitReport:
        """Fit on all labels ``x (n, ...)``, ``y (n,)`` from freshly seeded weights (with
        ``warm_start``, after the first fit, from the last fit's; see the class).

        Returns the :class:`FitReport` with held-out errors in reward units.
        """
        if y.shape != (x.shape[0],) or not torch.isfinite(y).all():
            raise ValueError(f"need finite labels of shape ({x.shape[0]},), got shape {tuple(y.shape)}")
        self.build(tuple(x.shape[1:]))
        generator = torch.Generator().manual_seed(seed)
        dtype = self.label_mean.dtype
        y = y.to(self.label_mean.device, dtype)
        held = self.held_out(x) if self.warm_start else None
        old_mean, old_std = self.label_mean.clone(), self.label_std.clone()
        self.label_mean.fill_(y.mean())
        self.label_std.fill_(y.std().clamp_min(1e-6) if len(y) > 1 else 1.0)
        if self.warm_start and self.fitted:
            weight, bias = self.heads.output_layer()
            with torch.no_grad():
                weight.mul_(old_std / self.label_std)
                bias.mul_(old_std / self.label_std).add_((old_mean - self.label_mean) / self.label_std)
        else:
            self.heads.reset(generator)
        z = self.featurize(x.to(self.label_mean.device, dtype)).detach()
        self.heads.requires_grad_(True)
        try:
            report = fit_heads(self.heads, z, (y - self.label_mean) / self.label_std, generator,
                               bootstrap=self.bootstrap, held=held, **self.settings)
            if self.warm_start:
                self.fitted.fill_(True)
        finally:
            self.heads.requires_grad_(False)
        report.holdout_error = report.holdout_error * self.label_std.cpu()
        with torch.no_grad():
            self.after_fit(z, generator)
        return report

    def held_out(self, x: Tensor) -> Tensor:
        """The warm start's held-out split of ``x (n, ...)``, ``(n,)`` bool: ``u(x_i) < holdout`` with
        ``u`` the BLAKE2b hash of the design's values read in ``[0, 1)`` (the smallest ``u`` held out if
        none is, the largest trained on if all are)."""
        if len(x) < 2:
            raise ValueError(f"need at least 2 labels to fit with a held-out split, got {len(x)}")
        u = torch.tensor([int.from_bytes(hashlib.blake2b(row_key(row), digest_size=8).digest(), "little") / 2.0**64
                          for row in x.detach().cpu()], dtype=torch.float64)
        held = u < self.settings["holdout"]
        if not held.any():
            held[u.argmin()] = True
        if held.all():
            held[u.argmax()] = False
        return held

    def after_fit(self, z: Tensor, generator: torch.Generator) -> None:
        """Update what the bonus needs from the labelled features ``z (n, F)``."""
