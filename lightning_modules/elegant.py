"""ELEGANT as a LightningModule: drift, value and initial-law phases."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from rewardsde.controlled import ControlledSDE
from rewardsde.export import export_pipeline
from rewardsde.corrections import DriftCorrection
from rewardsde.initial_law import LearnedInitialLaw
from rewardsde.reference import ReferenceSDE
from rewardsde.rewards import evaluate_reward
from rewardsde.solve import Solution, check_solver_options, solve

PHASES = ("drift", "value", "initial")


@dataclass
class Rollout:
    """Samples with what their KL estimate needs.

    Attributes:
        x0: start states ``(n, *event_shape)``.
        x: final samples ``(n, *event_shape)``.
        running_cost: ``∫½‖a‖²dt`` per path, ``(n,)``.
        initial_cost: ``∫½‖b_ψ‖²dτ`` per path (zero for the fixed law), ``(n,)``.
    """

    x0: Tensor
    x: Tensor
    running_cost: Tensor
    initial_cost: Tensor

    @property
    def kl(self) -> Tensor:
        """Per-path Girsanov estimate of KL(P^{u,ν} ‖ P^pre), ``(n,)``."""
        return self.running_cost + self.initial_cost


class ElegantModule(L.LightningModule):
    """Fine-tune a diffusion model toward ``p*(x) ∝ p_pre(x)·exp(r(x)/α)``.

    Maximises ``E[r(x_T)] - α·KL(P^{u,ν} ‖ P^pre)`` in up to three phases,
    scheduled by the global step (so a resumed run continues in the right phase):

    1. ``drift`` (``drift_steps``): learn the control ``a = u/σ`` from
       ``x_0 ~ N(0, I)`` by backprop through the solve of
       ``-r(x_T) + α∫½‖a‖²dt``.
    2. ``value`` (``value_steps``, only with ``learn_initial``): regress
       ``v̂_0(x_0)`` onto ``r(x_T) - α∫½‖a‖²dt``.
    3. ``initial`` (``initial_steps``, only with ``learn_initial``): learn
       ``ν ∝ exp(v̂_0/α)·N(0, I)`` through the auxiliary control problem.

    Training stops by itself after the last phase, so a Trainer needs no
    ``max_steps``. ``sample(n)`` draws ``x_0`` from the learned law when there is one, otherwise
    from ``N(0, I)``, then runs the fine-tuned SDE.

    Args:
        sde: the pretrained (reference) SDE.
        correction: the drift correction to learn.
        reward: ``reward(x) -> (batch,)``; differentiable in ``x``. In YAML, an
            ``nn.Module`` class given by ``class_path``/``init_args``.
        alpha: KL weight; must be positive.
        learn_initial: learn ν (ELEGANT) or keep ``N(0, I)`` (the fixed-ν baseline).
        backend: gradient back end of :func:`rewardsde.solve`.
        method: torchsde solver; by default ``sde.preferred_method``.
        steps: solver steps of the main SDE.
        truncate: differentiated steps for ``backend="truncated"``.
        checkpoint: recompute network calls in the backward pass (``direct``).
        drift_steps, value_steps, initial_steps: phase lengths in optimiser steps.
        lr, value_lr, initial_lr: AdamW learning rates of the three phases.
        initial_hidden: width of the value and auxiliary-control networks.
        initial_solver_steps: solver steps of the auxiliary SDE.
        seed: base seed; each step's noise is derived from (seed, step, rank).
    """

    alpha_may_be_zero = False
    tracks_previous = False
    not_hyperparameters = ("sde", "correction", "reward")

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        reward: nn.Module | Callable[[Tensor], Tensor],
        alpha: float = 1.0,
        learn_initial: bool = True,
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
    ) -> None:
        settings = {k: v for k, v in locals().items() if k not in ("self", "__class__", *self.not_hyperparameters)}
        super().__init__()
        if self.alpha_may_be_zero:
            if alpha != 0:
                raise ValueError(f"{type(self).__name__} has no KL term: alpha must be 0, got {alpha}")
        elif not alpha > 0:
            raise ValueError(
                f"alpha must be positive for {type(self).__name__}, got {alpha}; "
                "for reward backprop without KL use NoKLModule"
            )
        check_solver_options(backend, method, steps, truncate=truncate)
        phases = {"drift_steps": drift_steps}
        if learn_initial:
            phases |= {"value_steps": value_steps, "initial_steps": initial_steps}
        for name, value in phases.items():
            if value < 1:
                raise ValueError(f"{name} must be positive, got {value}")
        self.save_hyperparameters(ignore=list(self.not_hyperparameters))
        # Under LightningCLI the saved hyperparameters are the instantiated class's own
        # init_args; a subclass (NoKLModule) has no alpha there, so the values this
        # module runs on are written over them.
        self.hparams.update(settings)
        self.automatic_optimization = False
        previous = self.tracks_previous
        self.controlled = ControlledSDE(sde, correction, checkpoint=checkpoint, previous=previous)
        self.reward = reward
        self.initial_law = (
            LearnedInitialLaw(sde.event_shape, initial_hidden, steps=initial_solver_steps, previous=previous)
            if learn_initial else None
        )
        self.phase_ends = np.cumsum(list(phases.values())).tolist()
        self.rounds = 1

    @property
    def sde(self) -> ReferenceSDE:
        return self.controlled.reference

    @property
    def round_length(self) -> int:
        """Optimiser steps of one round of phases (ELEGANT runs one round; SEIKO several)."""
        return self.phase_ends[-1]

    @property
    def total_steps(self) -> int:
        """Optimiser steps over all phases of all rounds."""
        return self.rounds * self.round_length

    def phase_span(self, step: int | None = None) -> tuple[str, int, int] | None:
        """``(phase, first step, end step)`` of ``step`` (default: the current global
        step), in global steps; ``None`` once every round is done."""
        step = self.global_step if step is None else step
        if step >= self.total_steps:
            return None
        offset = step - step % self.round_length
        start = offset
        for name, end in zip(PHASES, self.phase_ends):
            if step < offset + end:
                return name, start, offset + end
            start = offset + end
        raise AssertionError("unreachable: the step lies inside a round")

    def phase(self, step: int | None = None) -> str | None:
        """The phase of ``step`` (default: the current global step); ``None`` once all are done."""
        span = self.phase_span(step)
        return None if span is None else span[0]

    def _seed(self, *stream: int) -> int:
        """A seed for this step, this rank and ``stream``: noise does not depend on RNG state."""
        state = np.random.SeedSequence([self.hparams.seed, self.global_step, self._noise_rank(), *stream])
        return int(state.generate_state(1)[0])

    def _noise_rank(self) -> int:
        return self.global_rank if self._trainer is not None else 0

    def _generator(self, seed: int) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(seed)

    def _solve(self, x0: Tensor, seed: int, backend: str | None = None) -> Solution:
        h = self.hparams
        backend = backend or h.backend
        return solve(self.controlled, x0, h.steps, backend=backend, method=h.method, truncate=h.truncate, seed=seed)

    @torch.no_grad()
    def rollout(self, n: int, seed: int | None = None) -> Rollout:
        """``n`` samples of the fine-tuned model, with their KL parts; no gradients."""
        seed = self._seed(1) if seed is None else seed
        seeds = np.random.SeedSequence(seed).generate_state(3)
        if self.initial_law is None:
            x0 = self.sde.sample_initial(n, self._generator(int(seeds[0])))
            initial_cost = x0.new_zeros(n)
        else:
            start = self.initial_law.sample(n, seed=int(seeds[1]), backend="direct")
            x0, initial_cost = start.x, start.running_cost
        with self.sde.for_sampling():
            end = self._solve(x0, int(seeds[2]), backend="direct")
        return Rollout(x0, end.x, end.running_cost, initial_cost)

    def sample(self, n: int, seed: int | None = None) -> Tensor:
        """``n`` final samples ``(n, *event_shape)`` of the fine-tuned model."""
        return self.rollout(n, seed).x

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        """One AdamW per phase; :meth:`training_step` decays each over its phase."""
        h = self.hparams
        groups = [([p for p in self.controlled.parameters() if p.requires_grad], h.lr)]
        if self.initial_law is not None:
            groups.append((list(self.initial_law.value.parameters()), h.value_lr))
            groups.append((list(self.initial_law.auxiliary.parameters()), h.initial_lr))
        return [torch.optim.AdamW([{"params": params, "base_lr": lr}], lr=lr) for params, lr in groups]

    def on_train_batch_start(self, batch: Tensor, batch_idx: int) -> int | None:
        """End training once every phase is done (returning -1 ends the epoch)."""
        if self.phase() is None:
            self.trainer.should_stop = True
            return -1
        return None

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        phase, start, end = self.phase_span()
        n = int(batch.reshape(-1)[0])
        index = PHASES.index(phase)
        optimizer = _as_list(self.optimizers())[index]
        factor = _cosine(self.global_step - start, end - start)
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * factor
        loss = getattr(self, f"_{phase}_loss")(n) + self._zero_for_idle_parameters(index)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.log(f"train/loss_{phase}", loss.detach(), prog_bar=True)
        return loss.detach()

    def _zero_for_idle_parameters(self, phase_index: int) -> Tensor:
        """``0·Σp`` over the parameters that this phase does not train.

        DDP expects a gradient for every parameter on every step, but each phase
        trains its own network; an explicit zero gradient for the others keeps plain
        ``strategy="ddp"`` working without ``find_unused_parameters``.
        """
        idle = [
            p for index, optimizer in enumerate(_as_list(self.optimizers())) if index != phase_index
            for group in optimizer.param_groups for p in group["params"]
        ]
        return sum((p.sum() for p in idle), torch.zeros((), device=self.device)) * 0.0

    def penalty(self, solution: Solution) -> Tensor:
        """The KL part of the objective per path, ``(n,)``: ``α∫½‖a‖²dt`` here."""
        return self.hparams.alpha * solution.running_cost

    @property
    def kl_weight(self) -> float:
        """The total KL weight, by which the value is scaled in ``value/spread`` (α here)."""
        return self.hparams.alpha

    def _drift_loss(self, n: int) -> Tensor:
        x0 = self.sde.sample_initial(n, self._generator(self._seed(0)))
        end = self._solve(x0, self._seed(2))
        reward = evaluate_reward(self.reward, end.x, gradient_for=type(self).__name__)
        self.log_dict({"train/reward": reward.mean().detach(), "train/kl_running": end.running_cost.mean().detach()})
        return (self.penalty(end) - reward).mean()

    def _value_loss(self, n: int) -> Tensor:
        with torch.no_grad():
            x0 = self.sde.sample_initial(n, self._generator(self._seed(0)))
            end = self._solve(x0, self._seed(2), backend="direct")
            target = evaluate_reward(self.reward, end.x) - self.penalty(end)
        value = self.initial_law.value_at(x0)
        if self.global_step + 1 == self.phase_span()[2]:
            self.log("value/spread", value.detach().std() / self.kl_weight)
        return (value - target).pow(2).mean()

    def _initial_loss(self, n: int) -> Tensor:
        backend = "direct" if self.hparams.backend == "truncated" else self.hparams.backend
        start = self.initial_law.sample(n, seed=self._seed(3), backend=backend)
        value = self.initial_law.value_at(start.x)
        self.log_dict({"train/initial_value": value.mean().detach(), "train/kl_initial": start.running_cost.mean().detach()})
        return (self.penalty(start) - value).mean()

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
        return {f"controlled.reference.{name}" for name, p in self.sde.named_parameters() if not p.requires_grad}

    def export_pipeline(self, directory: str) -> None:
        """Write the fine-tuned drift as a diffusers pipeline (see :func:`rewardsde.export_pipeline`)."""
        if self.initial_law is not None:
            rank_zero_warn("the learned initial law is not part of a diffusers pipeline, which starts from N(0, I)")
        export_pipeline(self.sde, self.controlled.correction, directory)


def _cosine(step: int, length: int) -> float:
    """Learning-rate factor of a cosine decay from 1 at step 0 to 0 at step ``length``."""
    progress = min(max(step, 0) / length, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


class NoKLModule(ElegantModule):
    """The AlignProp/DRaFT baseline: maximise ``E[r(x_T)]`` with no KL (α = 0).

    Same solver, drift correction and logging as :class:`ElegantModule`, with the
    initial law fixed at ``N(0, I)``. The default back end differentiates only the
    last ``truncate`` steps (DRaFT-K).
    """

    alpha_may_be_zero = True

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        reward: nn.Module | Callable[[Tensor], Tensor],
        backend: str = "truncated",
        method: str | None = None,
        steps: int = 50,
        truncate: int | None = 1,
        checkpoint: bool = False,
        drift_steps: int = 500,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        super().__init__(
            sde, correction, reward, alpha=0.0, learn_initial=False, backend=backend, method=method, steps=steps,
            truncate=truncate, checkpoint=checkpoint, drift_steps=drift_steps, lr=lr, seed=seed,
        )
