"""One SEIKO round: sample a batch, buy its labels, refit the reward model; fine-tune under α and β."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .objective import ElegantObjective
from .rewards import Oracle, RewardModel, learn_reward
from .rewards.models import FitReport
from .rewards.store import row_key
from .tilted import TiltedDenoisingObjective


@dataclass
class RoundReport:
    """What the start of a round bought and fitted.

    Attributes:
        index: the round, from 0.
        x: this process's new batch ``(m, *event_shape)``; y: its labels ``(m,)``.
        fit: the reward model's :class:`rewardsde.rewards.models.FitReport`.
        queries: labels bought so far (all rounds).
        infeasible: fraction of the batch labelled infeasible.
        bonus: mean optimism bonus ``ĝ`` on the batch.
    """

    index: int
    x: Tensor
    y: Tensor
    fit: FitReport
    queries: int
    infeasible: float
    bonus: float

    def scalars(self) -> dict[str, float]:
        """The round's figures under their logged names (``seiko/*``)."""
        return {
            "seiko/queries": float(self.queries),
            "seiko/batch_label": float(self.y.mean()),
            "seiko/infeasible": self.infeasible,
            "seiko/fit_error": float(self.fit.holdout_error.mean()),
            "seiko/bonus": self.bonus,
        }


class SeikoRound:
    """SEIKO's rounds around an :class:`ElegantObjective` (or a :class:`TiltedDenoisingObjective`,
    whose pool is rescored after each refit) whose reward is a :class:`RewardModel`.

    Round ``i`` starts (:meth:`begin`) by freezing the current controls as the
    previous ones, drawing ``round_sizes[i]`` samples of the current model, buying
    their labels from ``oracle`` and refitting the reward model ``r̂ + ĝ`` on every
    label so far (:func:`rewardsde.rewards.learn_reward`); a tilted objective with
    ``neighbours`` redraws its pool's neighbours around the best labels so far
    (:meth:`TiltedDenoisingObjective.anchor`). The round then trains the
    objective's phases, whose optimum is
    ``p_i ∝ exp((r̂+ĝ)/(α+β))·p_pre^{α/(α+β)}·p_{i-1}^{β/(α+β)}``.

    Args:
        objective: ELEGANT's objective, with ``reward`` the reward model and, when
            ``beta > 0``, a sampler that tracks the previous control.
        oracle: the budgeted ground truth.
        round_sizes: labels bought by each round; their sum must fit the budget.
        seed: base seed of the batches and the fits.
        canonical: ``x -> x'``, the design a sample stands for, in the samples' shape (e.g.
            :func:`rewardsde.domains.snap` for one-hot sequences, whose end states are near but not at
            their codes). With it a round's batch is made of canonical designs that are distinct and
            not labelled before, drawn from the model until there are ``round_sizes[i]`` of them or
            ``max_draws`` batches were drawn, so no design is paid for twice. Without it (default)
            the batch is one draw, and two samples of the same design are two labels.
        max_draws: the most batches a round draws to fill itself with new designs.
        target: with a :class:`TiltedDenoisingObjective`, the fraction ``f`` of every round's batch
            after the first drawn from the objective's target itself, the pool resampled by its
            weights without replacement (:meth:`TiltedDenoisingObjective.draw_target`), instead of
            from the model fitted to it; the rest (and, with ``canonical``, whatever the target
            cannot fill with new designs) from the model. Both are draws of approximations of one
            law, ``b·exp(r̂/α)``: the target's is exact on the pool but cannot leave it, the model's
            can generalise beyond it but reaches the target only as far as its fine-tuning went
            (on molecules, 55-75% of the way by the genuine mean, ``benchmarks/pmo.py --diagnose``).
            Round 0 draws from the model only: its reward model is not fitted yet. One process
            only (``shards=1``), as the target's draw is not split between processes.
    """

    def __init__(
        self, objective: ElegantObjective | TiltedDenoisingObjective, oracle: Oracle, round_sizes: list[int],
        seed: int = 0, canonical: Callable[[Tensor], Tensor] | None = None, max_draws: int = 8,
        target: float = 0.0,
    ) -> None:
        if not isinstance(objective.reward, RewardModel):
            raise ValueError(f"a SEIKO round refits a RewardModel, not {type(objective.reward).__name__}")
        if not (isinstance(max_draws, int) and max_draws >= 1):
            raise ValueError(f"max_draws must be a positive integer, got {max_draws!r}")
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"target must lie in [0, 1], got {target}")
        if target and not isinstance(objective, TiltedDenoisingObjective):
            raise ValueError(f"target > 0 draws from a TiltedDenoisingObjective's pool, not a {type(objective).__name__}")
        round_sizes = [int(n) for n in round_sizes]
        check_rounds(round_sizes, oracle.budget)
        self.objective, self.oracle, self.round_sizes, self.seed = objective, oracle, round_sizes, seed
        self.canonical, self.max_draws, self.target = canonical, max_draws, float(target)
        self.bought_until: list[int] = []  # labels in the store after each round's purchase

    @property
    def model(self) -> RewardModel:
        return self.objective.reward

    def batch_seed(self, index: int, rank: int = 0) -> int:
        """Seed of round ``index``'s batch on process ``rank``."""
        return int(np.random.SeedSequence([self.seed, index, rank, 0]).generate_state(1)[0])

    def begin(
        self, index: int, shards: int = 1, rank: int = 0, query: Callable[[Tensor], Tensor] | None = None,
        batch: Tensor | None = None,
    ) -> RoundReport:
        """Start round ``index``: freeze, sample ``round_sizes[index] / shards`` on this
        process (or take ``batch``, the designs already sent out for this round), label them
        (through ``query``, default :meth:`Oracle.query`) and refit."""
        if not 0 <= index < len(self.round_sizes):
            raise ValueError(f"round index must lie in [0, {len(self.round_sizes)}), got {index}")
        if self.target and shards > 1 and batch is None:
            raise ValueError(f"target > 0 draws the round's target on one process; each of {shards} shards would "
                             f"draw its own and they could overlap: run it with shards=1 (or pass the batch)")
        sampler = self.objective.sampler
        self.objective.freeze_previous()
        if batch is None:
            x = self.draw_batch(self.round_sizes[index] // shards, self.batch_seed(index, rank), index)
        else:
            x = batch.to(device=sampler.reference.device, dtype=sampler.reference.dtype)
        fit_seed = int(np.random.SeedSequence([self.seed, index, 0, 1]).generate_state(1)[0])
        y, report = learn_reward(self.oracle, self.model, x, seed=fit_seed, query=query)
        if isinstance(self.objective, TiltedDenoisingObjective):
            if self.objective.neighbours:
                labelled, labels, _ = self.oracle.store.tensors()
                anchor_seed = int(np.random.SeedSequence([self.seed, index, 0, 2]).generate_state(1)[0])
                self.objective.anchor(labelled, labels, seed=anchor_seed)
            self.objective.rescore()
        with torch.no_grad():
            bonus = float(self.model.bonus(x).mean())
        infeasible = float((y == self.oracle.infeasible_value).double().mean())
        self.bought_until = self.bought_until[:index] + [len(self.oracle.store.y)]
        return RoundReport(index, x, y, report, self.oracle.spent, infeasible, bonus)


    @torch.no_grad()
    def draw_batch(self, n: int, seed: int, index: int = 0) -> Tensor:
        """``n`` designs for round ``index`` (seed ``seed``): with ``target = f``, after round 0, the first
        ``round(f·n)`` drawn from the objective's target and the rest samples of the current model; with
        ``canonical``, up to ``n`` canonical designs, distinct and not labelled before round ``index``,
        the target's taken in its draw order over the whole pool, the model's from at most ``max_draws``
        draws of ``n``.

        Labels bought by round ``index`` itself (by a run killed while buying them) do not count as
        before: a resumed run draws the same batch and finds them in the store, as without ``canonical``.
        """
        sampler = self.objective.sampler
        k = round(self.target * n) if index > 0 else 0
        target_seed = int(np.random.SeedSequence([seed, 0]).generate_state(1)[0])
        if k:
            self.objective.draw_pool()
        if self.canonical is None:
            parts = [self.objective.draw_target(k, target_seed)] if k else []
            return torch.cat(parts + ([sampler.rollout(n - k, seed=seed).x] if n > k else []))
        before = self.bought_until[index - 1] if 0 < index <= len(self.bought_until) else 0
        earlier = {row_key(row) for row in self.oracle.store.x[:before]}
        kept: dict[bytes, Tensor] = {}

        def keep(x: Tensor, until: int) -> bool:
            for row in self.canonical(x):
                if len(kept) == until:
                    break
                key = row_key(row)
                if key not in earlier:
                    kept.setdefault(key, row)
            return len(kept) == n

        if k and keep(self.objective.draw_target(len(self.objective.samples), target_seed), k):
            return torch.stack(list(kept.values()))
        for draw in range(self.max_draws):
            draw_seed = int(np.random.SeedSequence([seed, draw]).generate_state(1)[0]) if draw else seed
            x = sampler.rollout(n, seed=draw_seed).x
            if keep(x, n):
                return torch.stack(list(kept.values()))
        warnings.warn(f"{self.max_draws} draws of {n} samples held only {len(kept)} new designs; "
                      f"the round buys {len(kept)} labels", stacklevel=3)
        # Nothing new at all: the last draw, whose labels are all stored, costs nothing.
        return torch.stack(list(kept.values())) if kept else self.canonical(x)


def check_rounds(round_sizes: list[int], budget: int) -> None:
    """Raise ``ValueError`` unless every round buys at least 2 labels and all fit ``budget``."""
    if not round_sizes or any(n < 2 for n in round_sizes):
        raise ValueError(f"round_sizes must be a non-empty list of sizes >= 2, got {round_sizes}")
    if round_sizes[0] > budget:
        raise ValueError(f"the oracle budget ({budget}) is smaller than the first round ({round_sizes[0]} queries)")
    if sum(round_sizes) > budget:
        raise ValueError(f"round_sizes {round_sizes} need {sum(round_sizes)} queries, more than the oracle budget ({budget})")
