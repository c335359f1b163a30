"""SEIKO as a LightningModule: rounds of query, refit and KL-regularised fine-tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rewardsde.corrections import DriftCorrection
from rewardsde.reference import ReferenceSDE
from rewardsde.rewards import Oracle, RewardModel
from rewardsde.solve import Solution

from .elegant import ElegantModule

PREVIOUS_KL_TAGS = {"drift": "train/kl_previous", "initial": "train/kl_initial_previous"}


class SeikoModule(ElegantModule):
    """Feedback-efficient online fine-tuning against a budgeted oracle.

    Round ``i`` (of ``len(round_sizes)``, each ``drift_steps + value_steps +
    initial_steps`` optimiser steps, scheduled by the global step) begins by

    1. freezing the current drift (and auxiliary initial-law drift) as ``a_prev``;
    2. drawing ``round_sizes[i]`` samples from the current model (sharded over
       ranks) and buying their labels from ``oracle`` (gathered; rank 0 stores them);
    3. refitting ``reward_model`` on every label so far (under DDP every rank fits
       the same data from the same seed, and rank 0's fit is broadcast);

    then fine-tunes ELEGANT's phases on the optimistic reward ``r̂ + ĝ`` with the
    penalty ``α∫½‖a‖²dt + β∫½‖a - a_prev‖²dt`` (and likewise for the initial law),
    whose optimum is ``p_i ∝ exp((r̂+ĝ)/(α+β))·p_pre^{α/(α+β)}·p_{i-1}^{β/(α+β)}``.

    A round's start is marked done in the checkpoint (``rounds_started``), so a run
    resumed mid-round does not redo it; a run resumed from before it regenerates
    the same batch from the same seeds, finds its paid labels in the store, and buys
    only those missing. Labels go to ``label_store`` (default
    ``<log_dir>/labels.jsonl``) as they arrive and into the checkpoint; a resumed
    run also reads the store file named by its checkpoint.

    Logged per round (at the step it starts): ``seiko/queries``,
    ``seiko/batch_label`` (mean label of the new batch), ``seiko/infeasible``
    (its infeasible fraction), ``seiko/fit_error`` (held-out RMSE of the reward
    model), ``seiko/bonus`` (mean ``ĝ`` on the batch). With ``eval_samples > 0``,
    before each round and at the end, on fresh samples scored with the oracle's
    noise-free reward (free: only for cheap, e.g. analytic, oracles):
    ``seiko/genuine_vs_queries`` (logged with the labels bought by the completed
    rounds as its step), ``seiko/genuine``, ``seiko/diversity`` (mean pairwise distance),
    ``seiko/kl_to_prior`` (Girsanov estimate). Every step: ELEGANT's tags plus
    ``train/kl_previous`` and ``train/kl_initial_previous``.

    Args:
        sde, correction: the pretrained SDE and the drift correction to learn.
        oracle: the budgeted ground-truth reward.
        reward_model: the learned reward with its bonus (UCB, bootstrap, TS, greedy).
        round_sizes: labels bought in each round; their sum must fit the budget.
            One round with the whole budget is the non-adaptive baseline.
        beta: weight of the KL to the previous round; non-negative.
        eval_samples: samples of each genuine-reward evaluation (0: none).
        label_store: the label file; ``None``: ``labels.jsonl`` in the log directory.
        kwargs: :class:`ElegantModule`'s settings: ``alpha`` (weight of the KL to
            the pretrained model; positive), ``learn_initial``, the solver, the
            phase lengths of each round, the learning rates and ``seed``.
    """

    tracks_previous = True
    not_hyperparameters = ("sde", "correction", "reward", "oracle", "reward_model")

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        oracle: Oracle,
        reward_model: RewardModel,
        round_sizes: list[int] = (64, 128, 256),
        beta: float = 1.0,
        eval_samples: int = 512,
        label_store: str | None = None,
        **kwargs: Any,
    ) -> None:
        round_sizes = [int(n) for n in round_sizes]
        _check_rounds(round_sizes, oracle.budget)
        if not beta >= 0:
            raise ValueError(f"beta must be non-negative, got {beta}")
        if eval_samples < 0 or eval_samples == 1:
            raise ValueError(f"eval_samples must be 0 or at least 2, got {eval_samples}")
        reward_model.build(tuple(sde.event_shape))
        super().__init__(sde, correction, reward_model, **kwargs)
        self.hparams.update(round_sizes=round_sizes, beta=beta, eval_samples=eval_samples, label_store=label_store)
        self.oracle = oracle
        self.rounds = len(round_sizes)
        self.register_buffer("rounds_started", torch.zeros((), dtype=torch.long))
        self.curve: dict[int, tuple[int, float]] = {}

    @property
    def kl_weight(self) -> float:
        return self.hparams.alpha + self.hparams.beta

    def penalty(self, solution: Solution) -> Tensor:
        """``α∫½‖a‖²dt + β∫½‖a - a_prev‖²dt`` per path, ``(n,)``."""
        tag = PREVIOUS_KL_TAGS.get(self.phase()) if self._trainer is not None else None
        if tag is not None:
            self.log(tag, solution.previous_cost.mean().detach())
        return self.hparams.alpha * solution.running_cost + self.hparams.beta * solution.previous_cost

    def setup(self, stage: str) -> None:
        path = self.hparams.label_store or Path(self.trainer.log_dir or self.trainer.default_root_dir) / "labels.jsonl"
        self.oracle.open(path, write=self.trainer.is_global_zero)
        if stage == "fit" and self.oracle.spent > self.oracle.budget:
            raise ValueError(f"the label store {path} holds {self.oracle.spent} labels, more than the budget {self.oracle.budget}")
        if stage == "fit":
            _check_shards(self.hparams.round_sizes, self.trainer.world_size)

    def on_train_batch_start(self, batch: Tensor, batch_idx: int) -> int | None:
        if super().on_train_batch_start(batch, batch_idx) == -1:
            return -1
        index = self.global_step // self.round_length
        if int(self.rounds_started) <= index:
            self._start_round(index)
            self.rounds_started.fill_(index + 1)
        return None

    def on_train_end(self) -> None:
        self._evaluate(self.rounds)

    def _round_seed(self, index: int, stream: int, rank: int = 0) -> int:
        return int(np.random.SeedSequence([self.hparams.seed, index, rank, stream]).generate_state(1)[0])

    def _start_round(self, index: int) -> None:
        self._evaluate(index)
        self.controlled.freeze_previous()
        if self.initial_law is not None:
            self.initial_law.auxiliary.freeze_previous()
        world = self.trainer.world_size
        shard = self.hparams.round_sizes[index] // world
        x = self.rollout(shard, seed=self._round_seed(index, 0, self._noise_rank())).x
        y = self._query(x)
        labelled, labels, _ = self.oracle.store.tensors()
        report = self.reward.fit(labelled.to(x), labels, seed=self._round_seed(index, 1))
        if world > 1:
            self.reward.load_state_dict(self.trainer.strategy.broadcast(self.reward.state_dict(), src=0))
        with torch.no_grad():
            bonus = self.reward.bonus(x).mean()
        self._log_round({
            "seiko/queries": float(self.oracle.spent),
            "seiko/batch_label": float(y.mean()),
            "seiko/infeasible": float((y == self.oracle.infeasible_value).double().mean()),
            "seiko/fit_error": float(report.holdout_error.mean()),
            "seiko/bonus": float(bonus),
        }, self.global_step)

    def _query(self, x: Tensor) -> Tensor:
        """Labels of this rank's samples ``x``; under DDP each rank buys its own
        unknown rows, and every rank records the gathered labels (rank 0 writes)."""
        if self.trainer.world_size == 1:
            return self.oracle.query(x)
        stored, known = self.oracle.store.lookup(x)
        unknown = int((~known).sum())
        self.oracle.check_budget(int(self.all_gather(torch.tensor(unknown, device=self.device)).sum()))
        y, feasible = stored.clone(), torch.ones_like(known)
        if unknown:
            y[~known], feasible[~known] = self.oracle.ask(x[~known])
        gathered = [self.all_gather(t.to(self.device)).flatten(0, 1) for t in (x, y, feasible.long(), (~known).long())]
        all_x, all_y, all_feasible, new = gathered
        new = new.bool()
        self.oracle.record(all_x[new].cpu(), all_y[new].cpu(), all_feasible[new].bool().cpu())
        return y.to(x.dtype)

    @torch.no_grad()
    def _evaluate(self, index: int) -> None:
        """The genuine reward of the model after ``index`` rounds, once per round, on rank 0."""
        n = self.hparams.eval_samples
        if n == 0 or index in self.curve or not self.trainer.is_global_zero:
            return
        rollout = self.rollout(n, seed=self._round_seed(0, 2))
        genuine = float(self.oracle.genuine(rollout.x)[0].mean())
        queries = sum(self.hparams.round_sizes[:index])
        self.curve[index] = (queries, genuine)
        for logger in self.trainer.loggers:
            logger.log_metrics({"seiko/genuine_vs_queries": genuine}, step=queries)
        self._log_round({
            "seiko/genuine": genuine,
            "seiko/diversity": float(torch.pdist(rollout.x.flatten(1)).mean()),
            "seiko/kl_to_prior": float(rollout.kl.mean()),
        }, self.global_step)

    def _log_round(self, values: dict[str, float], step: int) -> None:
        if self.trainer.is_global_zero:
            for logger in self.trainer.loggers:
                logger.log_metrics(values, step=step)

    def reward_versus_queries(self) -> list[tuple[int, float]]:
        """``(labels bought by the completed rounds, genuine reward)`` before the first
        round and after each, in order."""
        return [self.curve[i] for i in sorted(self.curve)]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["seiko_labels"] = self.oracle.state_dict()
        rows = [[i, *self.curve[i]] for i in sorted(self.curve)]
        checkpoint["seiko_curve"] = torch.tensor(rows, dtype=torch.float64).reshape(-1, 3)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        self.oracle.load_state_dict(checkpoint["seiko_labels"])
        self.curve = {int(i): (int(q), float(g)) for i, q, g in checkpoint["seiko_curve"].tolist()}


def _check_rounds(round_sizes: list[int], budget: int) -> None:
    if not round_sizes or any(n < 2 for n in round_sizes):
        raise ValueError(f"round_sizes must be a non-empty list of sizes >= 2, got {round_sizes}")
    if round_sizes[0] > budget:
        raise ValueError(f"the oracle budget ({budget}) is smaller than the first round ({round_sizes[0]} queries)")
    if sum(round_sizes) > budget:
        raise ValueError(f"round_sizes {round_sizes} need {sum(round_sizes)} queries, more than the oracle budget ({budget})")


def _check_shards(round_sizes: list[int], world_size: int) -> None:
    if any(n % world_size for n in round_sizes):
        raise ValueError(f"every round size must be divisible by the number of processes ({world_size}); got {round_sizes}")
