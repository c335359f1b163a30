"""Adjoint Matching as a LightningModule: typed arguments around the core's regression."""

from __future__ import annotations

from typing import Callable

from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from rewardsde.adjoint_matching import AdjointMatchingObjective, end_sensitivity
from rewardsde.corrections import DriftCorrection
from rewardsde.phases import PhaseSchedule
from rewardsde.reference import ReferenceSDE

from .control import ControlModule
from .elegant import build_sampler

MEMORY_TOLERANCE = 0.1


class AdjointMatchingModule(ControlModule):
    """Fine-tune toward ``p*(x) ∝ p_pre(x)·exp(r(x)/α)`` by Adjoint Matching.

    Each step regresses the control onto ``σ·ã`` along fresh Euler paths of the
    current model (:class:`rewardsde.adjoint_matching.AdjointMatchingObjective`):
    no backprop through the solver, no value function and no learned initial law.
    That is exact only when the reference forgets its start; at the start of
    training the module measures how much the end remembers it
    (:func:`rewardsde.adjoint_matching.end_sensitivity`) and warns above
    ``0.1``, where the result is biased like ELEGANT's fixed-ν baseline.

    Logged every step: ``train/loss_drift``, ``train/reward``, ``train/kl_running``;
    at the start ``adjoint_matching/end_sensitivity``.

    Args:
        sde, correction, reward, alpha, checkpoint, drift_steps, lr, seed: as in
            :class:`ElegantModule` (a single drift phase).
        steps: Euler steps of the training paths (and of sampling, with ``method``).
        method: torchsde solver for sampling; by default ``sde.preferred_method``.
        time_samples: grid points per loss (``None``: all ``steps``).
    """

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        reward: nn.Module | Callable[[Tensor], Tensor],
        alpha: float = 1.0,
        steps: int = 50,
        method: str | None = None,
        time_samples: int | None = None,
        checkpoint: bool = False,
        drift_steps: int = 500,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["sde", "correction", "reward"])
        self.hparams.update(learn_initial=False)
        sampler = build_sampler(
            sde, correction, False, backend="direct", method=method, steps=steps, truncate=None,
            checkpoint=checkpoint, initial_hidden=0, initial_solver_steps=0,
        )
        objective = AdjointMatchingObjective(sampler, reward, alpha, time_samples)
        self.attach(objective, PhaseSchedule(drift_steps), {"drift": lr})

    def on_train_start(self) -> None:
        memory = end_sensitivity(self.sde, steps=self.sampler.steps, seed=self.hparams.seed)
        if self.trainer.is_global_zero:
            for logger in self.trainer.loggers:
                logger.log_metrics({"adjoint_matching/end_sensitivity": memory}, step=self.global_step)
        if memory > MEMORY_TOLERANCE:
            rank_zero_warn(
                f"the reference SDE remembers its start (end sensitivity {memory:.2f} > {MEMORY_TOLERANCE}): "
                "Adjoint Matching is then biased like a fixed initial law; use ElegantModule with learn_initial"
            )
