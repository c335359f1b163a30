"""Evaluate fresh samples during training and log them to TensorBoard."""

from __future__ import annotations

import math
from typing import Callable

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torchmetrics import MeanMetric, Metric, SumMetric

from rewardsde.analytic import QuadraticForm

from .coverage import BonusCoverage
from .diversity import Diversity
from .kl_to_prior import KLToPrior
from .overoptimization import RewardOveroptimization
from .plots import image_grid, reward_versus_kl_figure, samples_figure
from .target_distance import TargetDistanceMetric


class SampleEvaluation(L.Callback):
    """Every ``every_n_steps`` optimiser steps and at the end of training, draw fresh
    samples from the module and log what users judge reward fine-tuning by.

    Each rank draws ``ceil(samples / world_size)`` samples with its own seed; the
    metrics gather them (torchmetrics, correct under DDP), so the logged values are
    those of the union. Scalars (documented in the README):

    * ``reward/learned`` (the reward being optimised), and with a ``genuine`` reward
      ``reward/genuine``, ``reward/gap`` and ``reward/spearman``; ``reward/non_finite``
      and ``reward/non_finite_genuine`` count rewards that were NaN or ±inf (left out
      of the means, never averaged in);
    * ``diversity/mean_distance`` and ``diversity/vendi`` in the feature space of ``features``;
    * ``kl/total`` (``± kl/total_stderr``), ``kl/running`` and ``kl/initial``: the
      Girsanov estimate of KL(P^{u,ν} ‖ P^pre) and its two parts; ``kl/non_finite``
      counts paths whose estimate overflowed;
    * ``target/*`` on analytic tasks: distances to the exact tilt and their noise floors;
    * ``reward/collapse``: 1 once the genuine reward has fallen ``patience``
      evaluations in a row while the learned one rose (also warned once);
    * for a module with an ``oracle`` (SEIKO): ``seiko/genuine_vs_queries``, the
      genuine reward logged with the labels bought so far as its step (with
      ``every_n_steps`` equal to a round's length and ``at_start``, one point before
      the first round and one after each), ``seiko/queries``, and
      ``seiko/coverage`` and ``seiko/eval_bonus`` (:class:`BonusCoverage`: how often
      ``|r̂ - r| ≤ ĝ`` on the feasible samples, with the oracle's noise-free ``r``,
      and the mean bonus there);
    * ``<name>`` for every entry of ``metrics`` (``<name>/<key>`` for a metric whose
      ``compute`` returns a dict): domain metrics updated with the samples
      ``(n, *event_shape)``, e.g. :class:`EhrlichFeasibility`, :class:`HammingDiversity`,
      :class:`MosesMetrics` or :class:`BestReward`.

    Figures and histograms (rank zero's samples): ``reward/learned`` histogram,
    ``samples/target`` for 1-D and 2-D samples, ``samples/grid`` for images, and
    ``plots/reward_vs_kl``.

    Every evaluation's scalars, with its ``step`` (and ``queries`` for SEIKO), are
    also kept in ``evaluations``; :meth:`reward_versus_queries` reads SEIKO's curve
    from them.

    The module must provide ``rollout(n, seed)`` (see
    :class:`rewardsde.Rollout`) and ``reward``.

    Args:
        every_n_steps: evaluation period in optimiser steps.
        samples: samples per evaluation over all ranks.
        genuine: an oracle or held-out reward to compare the learned one with; for
            a module with an ``oracle`` (SEIKO) it defaults to the oracle's
            noise-free labels (infeasible samples at its ``infeasible_value``).
        features: feature map for diversity (default: the flattened sample).
        distance: ``"l2"`` or ``"cosine"`` for diversity.
        patience: falls of the genuine reward that make a collapse.
        seed: base seed of the evaluation samples.
        metrics: extra torchmetrics ``Metric`` objects by the name they are logged
            under; each is updated with the samples and computed at every evaluation.
        at_start: also evaluate the model before the first training step.
    """

    def __init__(
        self,
        every_n_steps: int = 100,
        samples: int = 1024,
        genuine: nn.Module | Callable[[Tensor], Tensor] | None = None,
        features: nn.Module | Callable[[Tensor], Tensor] | None = None,
        distance: str = "l2",
        patience: int = 3,
        seed: int = 1234,
        metrics: dict[str, Metric] | None = None,
        at_start: bool = False,
    ) -> None:
        if every_n_steps < 1 or samples < 2 or patience < 1:
            raise ValueError(
                f"need every_n_steps >= 1, samples >= 2 and patience >= 1; got {every_n_steps}, {samples}, {patience}"
            )
        self.every_n_steps = every_n_steps
        self.samples = samples
        self.genuine = genuine
        self.seed = seed
        self.patience = patience
        self.at_start = at_start
        self.diversity = Diversity(features, distance)
        self.kl = KLToPrior()
        self.learned = MeanMetric()
        self.non_finite = SumMetric()
        self.overoptimization = RewardOveroptimization() if genuine is not None else None
        self.target = None
        self.coverage = None
        self.extra = dict(metrics or {})
        self.history: list[dict] = []
        self.evaluations: list[dict] = []
        self.collapsed = False
        self.last_step: int | None = None

    def setup(self, trainer: L.Trainer, module: L.LightningModule, stage: str) -> None:
        oracle = getattr(module, "oracle", None)
        in_process = oracle is not None and oracle.reward is not None  # a lab's oracle has no reward here
        if self.genuine is None and in_process:
            self.genuine = _NoiseFree(oracle)
            self.overoptimization = RewardOveroptimization()
        if in_process and hasattr(module.reward, "bonus"):
            self.coverage = BonusCoverage()
        sde = getattr(module, "sde", None)
        alpha = getattr(module.hparams, "alpha", 0.0)
        if hasattr(sde, "tilted") and alpha > 0 and isinstance(module.reward, QuadraticForm):
            self.target = TargetDistanceMetric(sde.tilted(module.reward, alpha), seed=self.seed)
        for metric in self._metrics():
            metric.to(module.device)

    def _metrics(self) -> list:
        optional = [m for m in (self.overoptimization, self.target, self.coverage) if m is not None]
        return [self.diversity, self.kl, self.learned, self.non_finite, *optional, *self.extra.values()]

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.at_start and trainer.global_step == 0:
            self.evaluate(trainer, module)

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            self.evaluate(trainer, module)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.last_step != trainer.global_step:
            self.evaluate(trainer, module)

    @torch.no_grad()
    def evaluate(self, trainer: L.Trainer, module: L.LightningModule) -> dict[str, float]:
        """Sample, update every metric, log, and return the logged scalars."""
        self.last_step = trainer.global_step
        per_rank = math.ceil(self.samples / trainer.world_size)
        seed = np.random.SeedSequence([self.seed, trainer.global_step, trainer.global_rank]).generate_state(1)[0]
        rollout = module.rollout(per_rank, seed=int(seed))
        learned = module.reward(rollout.x)
        finite = torch.isfinite(learned)
        self.learned.update(learned[finite])
        self.non_finite.update((~finite).sum())
        self.diversity.update(rollout.x)
        self.kl.update(rollout.running_cost, rollout.initial_cost)
        genuine = None
        if self.overoptimization is not None:
            genuine = self.genuine(rollout.x)
            self.overoptimization.update(learned, genuine)
        if self.target is not None:
            self.target.update(rollout.x)
        if self.coverage is not None:
            genuine_values, feasible = module.oracle.genuine(rollout.x)
            self.coverage.update(module.reward.mean(rollout.x), module.reward.bonus(rollout.x), genuine_values, feasible)
        for metric in self.extra.values():
            metric.update(rollout.x)
        values = self._compute()
        oracle = getattr(module, "oracle", None)
        queries = None if oracle is None else oracle.spent
        if queries is not None:
            values["seiko/queries"] = float(queries)
        self.evaluations.append({"step": trainer.global_step, **values})
        if trainer.is_global_zero:
            self._log(trainer, values, rollout.x, learned[finite])
            if queries is not None and "reward/genuine" in values:
                for logger in trainer.loggers:
                    logger.log_metrics({"seiko/genuine_vs_queries": values["reward/genuine"]}, step=queries)
        return values

    def reward_versus_queries(self) -> list[tuple[int, float]]:
        """``(labels bought, genuine reward)`` at every evaluation of a SEIKO run, in order."""
        return [(int(e["seiko/queries"]), e["reward/genuine"]) for e in self.evaluations
                if "seiko/queries" in e and "reward/genuine" in e]

    def _compute(self) -> dict[str, float]:
        values = {"reward/learned": self.learned.compute(), "reward/non_finite": self.non_finite.compute()}
        values |= {f"diversity/{k}": v for k, v in self.diversity.compute().items()}
        values |= {f"kl/{k}": v for k, v in self.kl.compute().items()}
        if self.overoptimization is not None:
            parts = self.overoptimization.compute()
            values |= {f"reward/{k}": parts[k] for k in ("genuine", "gap", "spearman", "non_finite_genuine")}
        if self.target is not None:
            values |= {f"target/{k}": v for k, v in self.target.compute().items()}
        if self.coverage is not None:
            parts = self.coverage.compute()
            values |= {"seiko/coverage": parts["coverage"], "seiko/eval_bonus": parts["bonus"]}
        for name, metric in self.extra.items():
            result = metric.compute()
            values |= {f"{name}/{k}": v for k, v in result.items()} if isinstance(result, dict) else {name: result}
        for metric in self._metrics():
            metric.reset()
        return {k: float(v) for k, v in values.items()}

    def _log(self, trainer: L.Trainer, values: dict[str, float], samples: Tensor, learned: Tensor) -> None:
        step = trainer.global_step
        row = {"step": step, "kl": values["kl/total"], "learned": values["reward/learned"]}
        if "reward/genuine" in values:
            row["genuine"] = values["reward/genuine"]
        self.history.append(row)
        if self._collapsing() and not self.collapsed:
            self.collapsed = True
            rank_zero_warn(
                f"reward collapse at step {step}: the genuine reward fell {self.patience} evaluations in a row "
                "while the learned reward rose"
            )
        values["reward/collapse"] = float(self.collapsed)
        for logger in trainer.loggers:
            logger.log_metrics(values, step=step)
            writer = getattr(logger, "experiment", None)
            if not hasattr(writer, "add_figure"):
                continue
            if learned.numel():
                writer.add_histogram("reward/learned", learned.float().cpu(), step)
            if samples.dim() == 4:
                writer.add_image("samples/grid", image_grid(samples), step)
            elif samples[0].numel() <= 2:
                target = self.target.target if self.target is not None else None
                writer.add_figure("samples/target", samples_figure(samples, target), step)
            writer.add_figure("plots/reward_vs_kl", reward_versus_kl_figure(self.history), step)

    def _collapsing(self) -> bool:
        recent = self.history[-(self.patience + 1) :]
        if len(recent) <= self.patience or "genuine" not in recent[0]:
            return False
        pairs = list(zip(recent, recent[1:]))
        return all(b["genuine"] < a["genuine"] and b["learned"] > a["learned"] for a, b in pairs)


class _NoiseFree:
    """``x -> `` an oracle's noise-free label, free of charge (:meth:`Oracle.genuine`)."""

    def __init__(self, oracle) -> None:
        self.oracle = oracle

    def __call__(self, x: Tensor) -> Tensor:
        return self.oracle.genuine(x)[0].to(x.dtype)
