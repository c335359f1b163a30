"""SEIKO as a LightningModule: typed arguments, DDP plumbing and checkpoints around the core's round."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Callable, Literal

import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from rewardsde.corrections import DriftCorrection
from rewardsde.phases import PhaseSchedule
from rewardsde.reference import ReferenceSDE
from rewardsde.rewards import LabelStore, Oracle, RewardModel
from rewardsde.rewards.lab import LabelsPending, LabOracle
from rewardsde.rounds import SeikoRound
from rewardsde.tilted import TiltedDenoisingObjective

from .control import ControlModule
from .elegant import build_objective, build_sampler, check_learn_initial


class SeikoModule(ControlModule):
    """Feedback-efficient online fine-tuning against a budgeted oracle.

    Round ``i`` (of ``len(round_sizes)``, each ``drift_steps + value_steps +
    initial_steps`` optimiser steps) starts with :meth:`rewardsde.SeikoRound.begin`
    (freeze the controls as the previous ones, sample ``round_sizes[i]`` designs
    sharded over ranks, buy their labels, refit ``reward_model`` on every label so
    far; under DDP rank 0's fit is broadcast), then trains ELEGANT's phases on
    ``r̂ + ĝ`` with the penalty ``α∫½‖a‖²dt + β∫½‖a - a_prev‖²dt``.

    With a :class:`rewardsde.rewards.LabOracle` (a lab in the loop) a round whose designs wait
    for labels writes them to ``<directory>/queries/round_<k>.csv``, saves the state to the
    lab's ``state.ckpt`` and stops; ``rewardsde fit`` with the same command resumes from it once
    ``rewardsde seiko import-labels`` has stored the answers, taking the round's batch from the
    lab's ledger so that no design is sent out twice.

    A round's start is marked done in the checkpoint (``rounds_started``); a run resumed
    before it regenerates the same batch, finds its paid labels in the store, and buys
    only those missing. Labels go to ``label_store`` (default ``<log_dir>/labels.jsonl``)
    as they arrive and into the checkpoint.

    Logged per round, at the step it starts: ``seiko/queries``, ``seiko/batch_label``,
    ``seiko/infeasible``, ``seiko/fit_error`` (held-out RMSE) and ``seiko/bonus``;
    every step ELEGANT's tags plus ``train/kl_previous`` and
    ``train/kl_initial_previous``. The genuine reward of fresh samples, and its
    curve against the labels bought (``seiko/genuine_vs_queries``), are logged by
    :class:`rewardsde.callbacks.SampleEvaluation`.

    Args:
        sde, correction: the pretrained SDE and the drift correction to learn.
        oracle: the budgeted ground-truth reward.
        reward_model: the learned reward with its bonus (UCB, bootstrap, TS, greedy).
        round_sizes: labels bought in each round; their sum must fit the budget.
            One round with the whole budget is the non-adaptive baseline.
        beta: weight of the KL to the previous round; non-negative.
        label_store: the label file; ``None``: ``labels.jsonl`` in the log directory.
        alpha, learn_initial, ..., seed, estimator, pool: as in :class:`ElegantModule` (phases per
            round). With ``estimator="tilted"`` each round refits the copy to the pretrained pool
            reweighted by ``exp(φ_i)``, ``φ_i = (r̂_i + ĝ_i + β·φ_{i-1})/(α+β)``: the round's exact
            optimum restricted to the pool (:class:`rewardsde.TiltedDenoisingObjective`); ``φ_{i-1}``
            is kept in the checkpoint.
        refresh_pool: with ``estimator="tilted"`` and ``beta = 0``, the fraction of the pool
            redrawn from the fine-tuned model at every round after the first, weighted toward the
            same target by multiple importance sampling (``TiltedDenoisingObjective(refresh=...)``);
            the pool is kept in the checkpoint.
        neighbours, propose, anchors: with ``estimator="tilted"`` and ``beta = 0``, every round adds
            ``neighbours`` draws of ``propose(anchors, k, generator) -> (k, *event_shape)`` (e.g.
            :class:`rewardsde.domains.PointMutations`; in YAML a ``class_path``) around the
            ``anchors`` best labelled designs to the pool (``TiltedDenoisingObjective(neighbours=...)``);
            the pool is kept in the checkpoint.
        canonical: the design a sample stands for (e.g. :func:`rewardsde.domains.snap`); with it each
            round buys distinct designs not labelled before (``SeikoRound(canonical=...)``); one
            process only.
        target: with ``estimator="tilted"``, the fraction of every round after the first bought from
            the round's target itself, the pool resampled by its weights without replacement, instead
            of from the model (``SeikoRound(target=...)``); one process only.
    """

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        oracle: Oracle,
        reward_model: RewardModel,
        round_sizes: list[int] = (64, 128, 256),
        beta: float = 1.0,
        label_store: str | None = None,
        alpha: float = 1.0,
        learn_initial: bool | Literal["auto"] = True,
        backend: str = "adjoint",
        method: str | None = None,
        steps: int = 50,
        truncate: int | None = None,
        checkpoint: bool = False,
        drift_steps: int = 500,
        value_steps: int = 200,
        initial_steps: int = 300,
        lr: float = 1e-3,
        value_lr: float = 1e-3,
        initial_lr: float = 1e-3,
        initial_hidden: int = 64,
        initial_solver_steps: int = 20,
        seed: int = 0,
        estimator: Literal["pathwise", "tilted"] = "pathwise",
        pool: int = 4096,
        refresh_pool: float = 0.0,
        neighbours: int = 0,
        propose: Callable | None = None,
        anchors: int = 16,
        canonical: Callable | None = None,
        target: float = 0.0,
    ) -> None:
        super().__init__()
        check_learn_initial(learn_initial)
        if not alpha > 0:
            raise ValueError(f"alpha must be positive for SeikoModule, got {alpha}")
        self.save_hyperparameters(ignore=["sde", "correction", "oracle", "reward_model", "propose", "canonical"])
        self.hparams.round_sizes = [int(n) for n in round_sizes]
        reward_model.build(tuple(sde.event_shape))
        sampler = build_sampler(
            sde, correction, learn_initial, backend=backend, method=method, steps=steps, truncate=truncate,
            checkpoint=checkpoint, initial_hidden=initial_hidden, initial_solver_steps=initial_solver_steps,
            previous=estimator == "pathwise",
        )
        pool_options = dict(neighbours=neighbours, propose=propose, anchors=anchors) if neighbours else {}
        objective = build_objective(sampler, reward_model, alpha, beta, estimator, pool, seed, learn_initial,
                                    refresh_pool, **pool_options)
        self.round = SeikoRound(objective, oracle, round_sizes, seed=seed, canonical=canonical, target=target)
        schedule = PhaseSchedule(drift_steps, value_steps if learn_initial else 0,
                                 initial_steps if learn_initial else 0, rounds=len(self.round.round_sizes))
        self.attach(objective, schedule, {"drift": lr, "value": value_lr, "initial": initial_lr},
                    auto_initial=learn_initial == "auto")
        self.oracle = oracle
        self.register_buffer("rounds_started", torch.zeros((), dtype=torch.long))
        self.waiting_for_lab = False

    def setup(self, stage: str) -> None:
        lab = isinstance(self.oracle, LabOracle)
        if lab and self.trainer.world_size > 1:
            raise ValueError(f"a LabOracle runs on one process, not {self.trainer.world_size}")
        path = self.oracle.store_path if lab else (
            self.hparams.label_store or Path(self.trainer.log_dir or self.trainer.default_root_dir) / "labels.jsonl")
        self.oracle.open(path, write=self.trainer.is_global_zero)
        world = self.trainer.world_size
        if world > 1:  # each rank's own answers, stored before the gather (see _query); merged on every start
            for rank in range(world):
                self.oracle.store.merge_file(_rank_file(path, rank))
            self._answers = self._answer_store(_rank_file(path, self.trainer.global_rank))
        if stage != "fit":
            return
        if self.oracle.spent > self.oracle.budget:
            raise ValueError(f"the label store {path} holds {self.oracle.spent} labels, more than the budget {self.oracle.budget}")
        if self.round.canonical is not None and self.trainer.world_size > 1:
            raise ValueError(f"canonical (distinct designs per round) runs on one process, not {self.trainer.world_size}")
        if self.round.target and self.trainer.world_size > 1:
            raise ValueError(f"target (draws of the tilted pool) runs on one process, not {self.trainer.world_size}")
        if any(n % self.trainer.world_size for n in self.round.round_sizes):
            raise ValueError(f"every round size must be divisible by the number of processes "
                             f"({self.trainer.world_size}); got {self.round.round_sizes}")

    def on_train_batch_start(self, batch: Tensor, batch_idx: int) -> int | None:
        if super().on_train_batch_start(batch, batch_idx) == -1:
            return -1
        index = self.global_step // self.round_length
        if int(self.rounds_started) <= index:
            world = self.trainer.world_size
            query, batch = None if world == 1 else self._query, None
            if isinstance(self.oracle, LabOracle):
                query, batch = partial(self.oracle.query, round_index=index), self.oracle.sent_batch(index)
            try:
                report = self.round.begin(index, shards=world, rank=self._noise_rank(), query=query, batch=batch)
            except LabelsPending as pending:
                self.trainer.save_checkpoint(self.oracle.checkpoint)
                rank_zero_info(f"{pending}\nThe run's state is saved in {self.oracle.checkpoint}.")
                self.waiting_for_lab = True
                self.trainer.should_stop = True
                return -1
            if world > 1:
                self.reward.load_state_dict(self.trainer.strategy.broadcast(self.reward.state_dict(), src=0))
                if isinstance(self.objective, TiltedDenoisingObjective):
                    self.objective.rescore()  # with rank 0's fit, so that every rank has the same weights
            if self.trainer.is_global_zero:
                for logger in self.trainer.loggers:
                    logger.log_metrics(report.scalars(), step=self.global_step)
            self.rounds_started.fill_(index + 1)
        return None

    def on_train_end(self) -> None:
        if isinstance(self.oracle, LabOracle) and not self.waiting_for_lab:
            self.oracle.checkpoint.unlink(missing_ok=True)  # done: a later run starts afresh, with every label stored

    def _answer_store(self, path: Path) -> LabelStore:
        """This rank's own label file (a test overrides it to die right after a write)."""
        return LabelStore(path, write=True, fingerprint=self.oracle.store.fingerprint)

    def _query(self, x: Tensor) -> Tensor:
        """Labels of this rank's samples ``x`` under DDP: each rank buys its own unknown
        rows and appends them to its own file ``<store>.rank<r>.jsonl`` before the gather,
        so a run that dies between a rank's answers and the gather finds them on resuming
        (every rank file is merged at start-up) and buys nothing twice; every rank then
        records the gathered labels (rank 0 writes the main store)."""
        stored, known = self.oracle.store.lookup(x)
        unknown = int((~known).sum())
        self.oracle.check_budget(int(self.all_gather(torch.tensor(unknown, device=self.device)).sum()))
        y, feasible = stored.clone(), torch.ones_like(known)
        if unknown:
            y[~known], feasible[~known] = self.oracle.ask(x[~known])
            self._answers.add(x[~known], y[~known], feasible[~known])  # durable before the gather
        gathered = [self.all_gather(t.to(self.device)).flatten(0, 1) for t in (x, y, feasible.long(), (~known).long())]
        all_x, all_y, all_feasible, new = gathered
        new = new.bool()
        self.oracle.record(all_x[new].cpu(), all_y[new].cpu(), all_feasible[new].bool().cpu())
        return y.to(x.dtype)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["seiko_labels"] = self.oracle.state_dict()
        checkpoint["seiko_bought_until"] = list(self.round.bought_until)
        if isinstance(self.objective, TiltedDenoisingObjective):
            checkpoint["seiko_previous_log_weights"] = self.objective.previous
            if self.objective.proposal is not None or self.objective.neighbours:
                checkpoint["seiko_pool"] = {"samples": self.objective.samples, "draws": self.objective.draws,
                                            "proposal": self.objective.proposal}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        self.oracle.load_state_dict(checkpoint["seiko_labels"])
        self.round.bought_until = list(checkpoint.get("seiko_bought_until", []))
        if isinstance(self.objective, TiltedDenoisingObjective):
            self.objective.previous = checkpoint.get("seiko_previous_log_weights")
            pool = checkpoint.get("seiko_pool")
            if pool is not None:  # a refreshed pool or one with neighbours: it cannot be redrawn from p_pre alone
                self.objective.samples, self.objective.draws = pool["samples"], pool["draws"]
                self.objective.proposal, self.objective.rewards = pool["proposal"], None


def _rank_file(path: str | Path, rank: int) -> Path:
    """``labels.jsonl`` -> ``labels.rank1.jsonl``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rank{rank}{path.suffix}")
