"""ELEGANT and the no-KL baseline as LightningModules: typed arguments around the core's objective."""

from __future__ import annotations

from typing import Any, Callable, Literal

from torch import Tensor, nn

from rewardsde.corrections import DriftCorrection
from rewardsde.domains.onehot import check_network_shape
from rewardsde.objective import ElegantObjective
from rewardsde.initial_law import LearnedInitialLaw
from rewardsde.phases import PhaseSchedule
from rewardsde.reference import ReferenceSDE
from rewardsde.sampler import FineTunedSampler
from rewardsde.tilted import TiltedDenoisingObjective

from .control import ControlModule


def check_learn_initial(learn_initial: object) -> None:
    """Raise ``ValueError`` unless ``learn_initial`` is ``True``, ``False`` or ``"auto"``."""
    if not (learn_initial is True or learn_initial is False or learn_initial == "auto"):
        raise ValueError(f"learn_initial must be true, false or 'auto', got {learn_initial!r}")


def build_sampler(sde: ReferenceSDE, correction: DriftCorrection, learn_initial: bool | str, *, backend: str,
                  method: str | None, steps: int, truncate: int | None, checkpoint: bool, initial_hidden: int,
                  initial_solver_steps: int, previous: bool = False) -> FineTunedSampler:
    """The :class:`FineTunedSampler` of the modules' flat settings; refuses a correction network of another shape."""
    check_network_shape(getattr(correction, "network", None), sde.event_shape, "the correction's network")
    law = (LearnedInitialLaw(sde.event_shape, initial_hidden, steps=initial_solver_steps, previous=previous)
           if learn_initial is not False else None)
    return FineTunedSampler(sde, correction, law, steps=steps, backend=backend, method=method, truncate=truncate,
                            checkpoint=checkpoint, previous=previous)


def build_objective(sampler: FineTunedSampler, reward, alpha: float, beta: float, estimator: str, pool: int,
                    seed: int, learn_initial: bool | str,
                    refresh_pool: float = 0.0, **neighbours: Any) -> ElegantObjective | TiltedDenoisingObjective:
    """The objective of ``estimator``: ``"pathwise"`` (:class:`rewardsde.ElegantObjective`) or ``"tilted"``
    (:class:`rewardsde.TiltedDenoisingObjective`, which needs ``learn_initial`` false; ``refresh_pool`` is
    its ``refresh``, and ``neighbours`` its ``neighbours``, ``propose`` and ``anchors``)."""
    if estimator not in ("pathwise", "tilted"):
        raise ValueError(f"estimator must be 'pathwise' or 'tilted', got {estimator!r}")
    if estimator == "pathwise":
        if refresh_pool or neighbours.get("neighbours"):
            raise ValueError("refresh_pool and neighbours change the pool of estimator='tilted'; "
                             "the pathwise estimator has none")
        return ElegantObjective(sampler, reward, alpha, beta)
    if learn_initial is not False:
        raise ValueError(
            f"estimator='tilted' learns no initial law (its start is N(0, I)); set learn_initial: false, "
            f"got {learn_initial!r}"
        )
    return TiltedDenoisingObjective(sampler, reward, alpha, pool=pool, pool_seed=seed, beta=beta, refresh=refresh_pool,
                                    **neighbours)


class ElegantModule(ControlModule):
    """Fine-tune a diffusion model toward ``p*(x) ∝ p_pre(x)·exp(r(x)/α)``.

    Maximises ``E[r(x_T)] - α·KL(P^{u,ν} ‖ P^pre)`` with the losses of
    :class:`rewardsde.ElegantObjective`, in up to three phases scheduled by the
    global step (:class:`rewardsde.PhaseSchedule`, so a resumed run continues in
    the right phase):

    1. ``drift`` (``drift_steps``): the control ``a = u/σ`` from ``x_0 ~ N(0, I)``,
       by backprop through the solve of ``-r(x_T) + α∫½‖a‖²dt``.
    2. ``value`` (``value_steps``, only with ``learn_initial``): ``v̂_0(x_0)`` onto
       ``r(x_T) - α∫½‖a‖²dt``.
    3. ``initial`` (``initial_steps``, only with ``learn_initial``):
       ``ν ∝ exp(v̂_0/α)·N(0, I)`` through the auxiliary control problem.

    Training stops by itself after the last phase, so a Trainer needs no
    ``max_steps``. ``sample(n)`` draws from the fine-tuned model (the learned law
    when there is one). The trained model is :attr:`sampler`, a plain-torch
    :class:`rewardsde.FineTunedSampler`.

    ``estimator="tilted"`` reaches the same target by weighted denoising instead
    (:class:`rewardsde.TiltedDenoisingObjective`): the drift phase fits a
    :class:`rewardsde.DenoiserCorrection` to ``pool`` pretrained samples resampled with
    weights ``∝ exp(r/α)``, without the reward's gradient, and no initial law is learned.
    Use it where the pathwise gradient is heavy-tailed (one-hot sequences; see
    ``docs/howto/sequences.md``).

    Args:
        sde: the pretrained (reference) SDE.
        correction: the drift correction to learn.
        reward: ``reward(x) -> (batch,)``; differentiable in ``x``. In YAML, an
            ``nn.Module`` class given by ``class_path``/``init_args``.
        alpha: KL weight; must be positive.
        learn_initial: learn ν (ELEGANT), keep ``N(0, I)`` (the fixed-ν baseline), or
            ``"auto"``: learn it only when the value regression has held-out skill
            (robust in high dimension, where a value fitted to near-flat noisy
            targets would otherwise be exploited by the auxiliary control).
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
        estimator: ``"pathwise"`` (:class:`rewardsde.ElegantObjective`) or ``"tilted"``
            (:class:`rewardsde.TiltedDenoisingObjective`; needs ``learn_initial: false``).
        pool: pretrained samples the ``"tilted"`` estimator reweights (drawn at the first step,
            seeded by ``seed``, with ``steps`` solver steps).
    """

    def __init__(
        self,
        sde: ReferenceSDE,
        correction: DriftCorrection,
        reward: nn.Module | Callable[[Tensor], Tensor],
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
    ) -> None:
        super().__init__()
        check_learn_initial(learn_initial)
        if not alpha > 0:
            raise ValueError(
                f"alpha must be positive for {type(self).__name__}, got {alpha}; "
                "for reward backprop without KL use NoKLModule"
            )
        for name, value in (("value_steps", value_steps), ("initial_steps", initial_steps)):
            if learn_initial and value < 1:
                raise ValueError(f"{name} must be positive, got {value}")
        self.save_hyperparameters(ignore=["sde", "correction", "reward"])
        sampler = build_sampler(
            sde, correction, learn_initial, backend=backend, method=method, steps=steps, truncate=truncate,
            checkpoint=checkpoint, initial_hidden=initial_hidden, initial_solver_steps=initial_solver_steps,
        )
        schedule = PhaseSchedule(drift_steps, value_steps if learn_initial else 0, initial_steps if learn_initial else 0)
        objective = build_objective(sampler, reward, alpha, 0.0, estimator, pool, seed, learn_initial)
        self.attach(objective, schedule,
                    {"drift": lr, "value": value_lr, "initial": initial_lr}, auto_initial=learn_initial == "auto")


class NoKLModule(ControlModule):
    """The AlignProp/DRaFT baseline: maximise ``E[r(x_T)]`` with no KL (α = 0).

    The same objective (:class:`rewardsde.ElegantObjective` with ``alpha=0``),
    solver, drift correction and logging as :class:`ElegantModule`, with the initial
    law fixed at ``N(0, I)``. The default back end differentiates only the last
    ``truncate`` steps (DRaFT-K).
    """

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
        super().__init__()
        self.save_hyperparameters(ignore=["sde", "correction", "reward"])
        self.hparams.update(alpha=0.0, learn_initial=False)
        sampler = build_sampler(
            sde, correction, False, backend=backend, method=method, steps=steps, truncate=truncate,
            checkpoint=checkpoint, initial_hidden=0, initial_solver_steps=0,
        )
        self.attach(ElegantObjective(sampler, reward, alpha=0.0), PhaseSchedule(drift_steps), {"drift": lr})
