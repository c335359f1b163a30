"""One SEIKO round: sample a batch, buy its labels, refit the reward model; fine-tune under α and β."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .objective import ElegantObjective
from .rewards import Oracle, RewardModel, learn_reward
from .rewards.models import FitReport
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
    """

    def __init__(
        self, objective: ElegantObjective | TiltedDenoisingObjective, oracle: Oracle, round_sizes: list[int],
        seed: int = 0,
    ) -> None:
        if not isinstance(objective.reward, RewardModel):
            raise ValueError(f"a SEIKO round refits a RewardModel, not {type(objective.reward).__name__}")
        round_sizes = [int(n) for n in round_sizes]
        check_rounds(round_sizes, oracle.budget)
        self.objective, self.oracle, self.round_sizes, self.seed = objective, oracle, round_sizes, seed

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
        sampler = self.objective.sampler
        self.objective.freeze_previous()
        if batch is None:
            x = sampler.rollout(self.round_sizes[index] // shards, seed=self.batch_seed(index, rank)).x
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
        return RoundReport(index, x, y, report, self.oracle.spent, infeasible, bonus)


def check_rounds(round_sizes: list[int], budget: int) -> None:
    """Raise ``ValueError`` unless every round buys at least 2 labels and all fit ``budget``."""
    if not round_sizes or any(n < 2 for n in round_sizes):
        raise ValueError(f"round_sizes must be a non-empty list of sizes >= 2, got {round_sizes}")
    if round_sizes[0] > budget:
        raise ValueError(f"the oracle budget ({budget}) is smaller than the first round ({round_sizes[0]} queries)")
    if sum(round_sizes) > budget:
        raise ValueError(f"round_sizes {round_sizes} need {sum(round_sizes)} queries, more than the oracle budget ({budget})")
