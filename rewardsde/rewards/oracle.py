"""A budgeted oracle: the expensive ground-truth reward that SEIKO queries."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn

from .store import LabelStore, row_key


class BudgetExhaustedError(RuntimeError):
    """A query would have taken the oracle past its budget; nothing was evaluated."""


class Oracle:
    """A ground-truth reward behind a hard query budget, with a persistent label store.

    A query of ``x`` ``(n, ...)`` returns ``y = r(x) + ε`` ``(n,)`` with
    ``ε ~ N(0, noise_std²)``. Samples where ``r`` is not finite (NaN or ±inf:
    infeasible designs) return ``infeasible_value`` exactly, so no NaN or −inf
    ever reaches a loss. Every answer is stored (:class:`LabelStore`) as it
    arrives; a sample whose exact values are already stored is answered from the
    store for free, so nothing paid for is bought twice, and the budget counts
    every stored label (``spent == len(store)``), including those reloaded from a
    file or a checkpoint.

    The noise of a sample depends only on ``seed`` and the exact values of the
    sample (a hash of both), so it does not depend on the order of queries, the
    batch split, or the process.

    A reward with a ``fingerprint`` attribute (a JSON-able dict naming its instance,
    as :class:`rewardsde.domains.EhrlichReward`, :class:`rewardsde.domains.MoleculeReward`
    and :class:`rewardsde.domains.GenuineReward` have) gives it to the store: a label
    file or checkpoint written for another instance is refused with a ``ValueError``
    naming both (see :class:`LabelStore`).

    Args:
        reward: the ground truth ``r(x) -> (n,)``; NaN or ±inf marks an infeasible sample.
        budget: the most labels that may ever be bought.
        noise_std: standard deviation of the observation noise (0: none).
        infeasible_value: the label of an infeasible sample.
        chunk_size: answer (and store) at most this many samples at a time; the
            rest of a query waits until those are stored. ``None``: all at once.
        seed: seed of the observation noise.
    """

    def __init__(
        self,
        reward: nn.Module | Callable[[Tensor], Tensor],
        budget: int,
        noise_std: float = 0.0,
        infeasible_value: float = -1.0,
        chunk_size: int | None = None,
        seed: int = 0,
    ) -> None:
        if not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be non-negative, got {noise_std}")
        if not torch.isfinite(torch.tensor(float(infeasible_value))):
            raise ValueError(f"infeasible_value must be finite, got {infeasible_value}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be positive or None, got {chunk_size}")
        self.reward = reward
        self.budget = budget
        self.noise_std = float(noise_std)
        self.infeasible_value = float(infeasible_value)
        self.chunk_size = chunk_size
        self.seed = seed
        self.store = LabelStore(fingerprint=getattr(reward, "fingerprint", None))
        self.calls = 0

    @property
    def spent(self) -> int:
        """Labels bought so far (every stored label)."""
        return len(self.store)

    def open(self, path: str | Path, write: bool = True) -> None:
        """Keep the labels in the JSON-lines file ``path`` (see :meth:`LabelStore.open`); a file
        written for another instance (another fingerprint) raises ``ValueError``."""
        self.store.open(path, write)

    def check_budget(self, new: int) -> None:
        """Raise :class:`BudgetExhaustedError` unless ``new`` more labels fit in the budget."""
        if self.spent + new > self.budget:
            raise BudgetExhaustedError(
                f"oracle budget exhausted: {self.spent} of {self.budget} labels spent, {new} more requested"
            )

    def genuine(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Noise-free ``r(x)`` with infeasible samples mapped, and the feasibility mask, both ``(n,)``.

        Not charged and not stored: for evaluation on tasks whose reward is cheap
        (analytic benchmarks), never for training.
        """
        with torch.no_grad():
            value = torch.as_tensor(self.reward(x)).to(torch.float64).reshape(-1)
        if value.shape != (x.shape[0],):
            raise ValueError(f"the oracle's reward must return shape ({x.shape[0]},), got {tuple(value.shape)}")
        feasible = torch.isfinite(value)
        return torch.where(feasible, value, torch.full_like(value, self.infeasible_value)), feasible

    def ask(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Evaluate ``x`` ``(n, ...)`` (all rows charged, nothing stored): ``(y (n,), feasible (n,))``.

        Use :meth:`query` unless the rows are gathered from several processes
        before storing (DDP); then check the budget for all of them first.
        """
        self.check_budget(x.shape[0])
        y, feasible = self.genuine(x)
        self.calls += x.shape[0]
        if self.noise_std > 0:
            noise = torch.tensor([self._noise(row) for row in x], dtype=torch.float64)
            y = torch.where(feasible, y + self.noise_std * noise, y)
        return y, feasible

    def _noise(self, row: Tensor) -> float:
        digest = hashlib.blake2b(row_key(row), digest_size=8, key=str(self.seed).encode()).digest()
        generator = torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)
        return float(torch.randn((), generator=generator, dtype=torch.float64))

    def record(self, x: Tensor, y: Tensor, feasible: Tensor) -> int:
        """Store answered labels; returns how many were new."""
        return self.store.add(x, y, feasible)

    def query(self, x: Tensor) -> Tensor:
        """Labels ``(n,)`` of ``x`` ``(n, ...)``: stored ones for free, the rest bought
        ``chunk_size`` at a time, each chunk stored before the next is asked.

        Raises:
            BudgetExhaustedError: before any evaluation, if the unknown rows do not fit the budget.
        """
        _, known = self.store.lookup(x)
        first = {}
        for index in torch.nonzero(~known).flatten().tolist():
            first.setdefault(row_key(x[index]), index)
        unknown = x[list(first.values())]
        self.check_budget(len(unknown))
        size = self.chunk_size or max(len(unknown), 1)
        for start in range(0, len(unknown), size):
            chunk = unknown[start : start + size]
            self.record(chunk, *self.ask(chunk))
        return self.store.lookup(x)[0].to(x.dtype)

    def state_dict(self) -> dict:
        """The labels (see :meth:`LabelStore.state_dict`)."""
        return self.store.state_dict()

    def load_state_dict(self, state: dict) -> int:
        """Add a checkpoint's labels and those of the store file it names; returns how many were new."""
        return self.store.load_state_dict(state)
