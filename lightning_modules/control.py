"""The plumbing shared by ELEGANT, the no-KL baseline and SEIKO: optimisers, phases, logging, checkpoints."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import Tensor, nn

from rewardsde.objective import ElegantObjective, Loss
from rewardsde.export import export_pipeline
from rewardsde.phases import PhaseSchedule, PhaseSpan
from rewardsde.reference import ReferenceSDE
from rewardsde.sampler import FineTunedSampler, Rollout


class ControlModule(L.LightningModule):
    """Train an :class:`rewardsde.ElegantObjective` over a :class:`rewardsde.PhaseSchedule`.

    Holds the sampler and the reward as submodules (so both are checkpointed), one
    AdamW per phase with a ``LambdaLR`` that follows the schedule's cosine, and
    steps the phase of the global step; training stops by itself after the last
    phase. Each step's noise comes from ``(seed, global step, rank)``, never from
    RNG state. Subclasses build the objective and the schedule, and call
    :meth:`attach`.

    Logged every step: ``train/loss_<phase>`` and the objective's statistics as
    ``train/<name>``; at the end of each value phase ``value/spread``,
    ``value/skill`` (held-out R² of ``v̂_0``, :meth:`rewardsde.ElegantObjective.value_skill`)
    and ``initial/enabled``. With ``auto_initial`` the learned initial law is used
    only when the value has held-out skill; otherwise ν stays ``N(0, I)``, the
    initial phase leaves the auxiliary control as it is, and a message says so.
    """

    objective: ElegantObjective
    schedule: PhaseSchedule

    def attach(
        self, objective: ElegantObjective, schedule: PhaseSchedule, learning_rates: dict[str, float],
        auto_initial: bool = False,
    ) -> None:
        """Register the objective's sampler and reward, and the phase schedule."""
        self.automatic_optimization = False
        self.auto_initial = auto_initial
        self.sampler = objective.sampler
        self.reward = objective.reward
        self.objective, self.schedule = objective, schedule
        self.learning_rates = {phase: learning_rates[phase] for phase in schedule.phases}

    @property
    def sde(self) -> ReferenceSDE:
        return self.sampler.reference

    @property
    def controlled(self) -> nn.Module:
        return self.sampler.controlled

    @property
    def initial_law(self) -> nn.Module | None:
        return self.sampler.initial_law

    @property
    def total_steps(self) -> int:
        return self.schedule.total_steps

    @property
    def round_length(self) -> int:
        return self.schedule.round_length

    def phase(self, step: int | None = None) -> str | None:
        """The phase of ``step`` (default: the current global step); ``None`` once all are done."""
        return self.schedule.phase(self.global_step if step is None else step)

    def _seed(self, *stream: int) -> int:
        """A seed for this step, this rank and ``stream``: noise does not depend on RNG state."""
        state = np.random.SeedSequence([self.hparams.seed, self.global_step, self._noise_rank(), *stream])
        return int(state.generate_state(1)[0])

    def _noise_rank(self) -> int:
        return self.global_rank if self._trainer is not None else 0

    def rollout(self, n: int, seed: int | None = None) -> Rollout:
        """``n`` samples of the fine-tuned model, with their KL parts; no gradients."""
        return self.sampler.rollout(n, self._seed(1) if seed is None else seed)

    def sample(self, n: int, seed: int | None = None) -> Tensor:
        """``n`` final samples ``(n, *event_shape)`` of the fine-tuned model."""
        return self.rollout(n, seed).x

    def _phase_parameters(self) -> dict[str, list[nn.Parameter]]:
        parameters = {"drift": [p for p in self.controlled.parameters() if p.requires_grad]}
        if "value" in self.schedule.phases:
            parameters["value"] = list(self.initial_law.value.parameters())
            parameters["initial"] = list(self.initial_law.auxiliary.parameters())
        return parameters

    def configure_optimizers(self) -> list[dict]:
        """One AdamW per phase, each decayed by ``torch.optim.lr_scheduler.LambdaLR`` over
        the schedule's cosine (restarting every round); the drift's weight decay is the
        correction's own (:attr:`rewardsde.DriftCorrection.weight_decay`)."""
        configs = []
        for phase, params in self._phase_parameters().items():
            decay = self.controlled.correction.weight_decay if phase == "drift" else 0.01
            optimizer = torch.optim.AdamW(params, lr=self.learning_rates[phase], weight_decay=decay)
            factor = _phase_factor(self.schedule, phase)
            configs.append({"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.LambdaLR(optimizer, factor)})
        return configs

    def on_train_batch_start(self, batch: Tensor, batch_idx: int) -> int | None:
        """End training once every phase is done (returning -1 ends the epoch)."""
        if self.phase() is None:
            self.trainer.should_stop = True
            return -1
        return None

    def phase_loss(self, span: PhaseSpan, n: int) -> Loss:
        """The objective's loss of this step's phase (a DDP test overrides this)."""
        return self.objective(span.phase, n, self._seed(0))

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        span = self.schedule.span(self.global_step)
        n = int(batch.reshape(-1)[0])
        index = self.schedule.phases.index(span.phase)
        optimizer = _as_list(self.optimizers())[index]
        scheduler = _as_list(self.lr_schedulers())[index]
        optimizer.zero_grad(set_to_none=True)
        if span.phase == "initial" and not self.initial_law.enabled:
            optimizer.step()  # no gradients: nothing moves, but the step is counted
            scheduler.step()
            return None
        loss = self.phase_loss(span, n)
        last = self.global_step + 1 == span.end
        self.manual_backward(loss.value + self._zero_for_idle_parameters(index))
        optimizer.step()
        scheduler.step()
        spread = loss.logs.pop("value_spread", None)
        if spread is not None and last:
            self.log("value/spread", spread)
            self._decide_initial_law(span.round, n)
        self.log_dict({f"train/{k}": v for k, v in loss.logs.items()})
        self.log(f"train/loss_{span.phase}", loss.value.detach(), prog_bar=True)
        return loss.value.detach()

    def _decide_initial_law(self, round_index: int, n: int) -> None:
        """After a value phase: measure ``v̂_0``'s held-out skill on ``4n`` fresh paths (the
        same seed on every rank) and, with ``auto_initial``, use ν only if it is useful."""
        seed = int(np.random.SeedSequence([self.hparams.seed, round_index, 5]).generate_state(1)[0])
        skill = self.objective.value_skill(4 * n, seed)
        if self.auto_initial:
            self.initial_law.enabled.fill_(skill.useful)
            verdict = "learns" if skill.useful else "keeps N(0, I) as"
            rank_zero_info(
                f"round {round_index}: the value's held-out R² is {skill.r2:.3f} (gain {skill.gain:.3g} ± "
                f"{skill.stderr:.2g}); learn_initial=auto {verdict} the initial law"
            )
        self.log_dict({"value/skill": skill.r2, "initial/enabled": float(self.initial_law.enabled)})

    def _zero_for_idle_parameters(self, phase_index: int) -> Tensor:
        """``0·Σp`` over the parameters that this phase does not train.

        DDP expects a gradient for every parameter on every step, but each phase
        trains its own network; an explicit zero gradient for the others keeps plain
        ``strategy="ddp"`` working without ``find_unused_parameters``.
        """
        idle = [p for index, params in enumerate(self._phase_parameters().values()) if index != phase_index for p in params]
        return sum((p.sum() for p in idle), torch.zeros((), device=self.device)) * 0.0

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the method and keep only trained weights: the frozen pretrained network
        (gigabytes for Stable Diffusion) is reloaded from its own files."""
        checkpoint["rewardsde_method"] = type(self).__name__
        frozen = self._frozen_parameter_names()
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k not in frozen}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        method = checkpoint.get("rewardsde_method")
        if method != type(self).__name__:
            raise ValueError(f"checkpoint was written by {method or 'an unknown module'}, not {type(self).__name__}")
        current = self.state_dict()
        for name in self._frozen_parameter_names():
            checkpoint["state_dict"].setdefault(name, current[name])

    def _frozen_parameter_names(self) -> set[str]:
        """The pretrained network's frozen weights (not the frozen snapshots SEIKO keeps)."""
        return {f"sampler.controlled.reference.{name}" for name, p in self.sde.named_parameters() if not p.requires_grad}

    def export_pipeline(self, directory: str) -> None:
        """Write the fine-tuned drift as a diffusers pipeline (see :func:`rewardsde.export_pipeline`)."""
        if self.initial_law is not None:
            rank_zero_warn("the learned initial law is not part of a diffusers pipeline, which starts from N(0, I)")
        export_pipeline(self.sde, self.controlled.correction, directory)


def _phase_factor(schedule: PhaseSchedule, phase: str):
    """``count -> schedule.phase_lr_factor(phase, count)``; a plain function, which
    ``LambdaLR.state_dict`` leaves out, so checkpoints stay loadable with ``weights_only``."""
    return lambda count: schedule.phase_lr_factor(phase, count)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
