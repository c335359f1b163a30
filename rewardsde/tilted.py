"""ELEGANT's target reached by weighted denoising: the forward-KL route to ``p_pre·exp(r/α)``."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .corrections import DenoiserCorrection
from .denoising import CrossEntropyDenoisingLoss, DenoisingLoss, has_x0_logits
from .objective import Loss
from .phases import PHASES
from .rewards import evaluate_reward
from .sampler import FineTunedSampler, derived_seeds
from .sampling import sample_reference


class TiltedDenoisingObjective:
    """Fit the fine-tuned denoiser to ``p*(x) ∝ p_pre(x)·exp(r(x)/α)`` by weighted denoising.

    ELEGANT's objective ``E[r(x_T)] - α·KL(P^u ‖ P^pre)`` is maximised by the tilted path
    law ``P*(path) ∝ P^pre(path)·exp(r(x_T)/α)``, whose end marginal is ``p*``.
    :class:`rewardsde.ElegantObjective` reaches it through the reverse KL and the pathwise
    gradient of ``r(x_T)``. This objective reaches the same law through the forward KL
    ``KL(P* ‖ P^u)``: draw a pool ``x^1..x^m`` of the pretrained model once, weight it by

        w_i = exp(r(x^i)/α) / Σ_j exp(r(x^j)/α)          (self-normalised; exact weights,
                                                          since the pool is drawn from p_pre),

    and train ``ε_θ`` (a :class:`rewardsde.DenoiserCorrection`, a copy of the pretrained
    network) with the pretraining loss on batches resampled from the pool with
    probabilities ``w``. The minimiser of the weighted denoising loss is the denoiser of
    ``Σ_i w_i δ_{x^i}``, the tilt restricted to the pool, which tends to ``p*`` as ``m``
    grows. The reward is only evaluated, never differentiated, so a sampler that snaps its
    states to discrete outcomes (one-hot sequences), whose pathwise gradient is
    heavy-tailed (``benchmarks/ehrlich_gradients.py``), does not stall it. The KL of the
    result to the pretrained model is still the Girsanov ``∫½‖a‖²dt`` of the sampler.

    Its limit is the pool: the tilt can only reweight what the pretrained model draws.
    The effective sample size ``1/Σw²`` (logged as ``ess``) falls as ``α`` does; when it
    is a handful of samples the fit drifts toward copies of them (on Ehrlich, at an ESS
    of 2-3, the samples' Hamming diversity halved). There is no initial law to learn: the
    forward noising forgets ``x_0`` (``ᾱ(1) ≈ 4·10⁻⁵`` for the default schedule), so the
    tilted law's start is ``N(0, I)`` up to that.

    The loss is :class:`rewardsde.CrossEntropyDenoisingLoss` on the network's ``logits`` when
    it has them (an x₀ :class:`rewardsde.domains.SequenceEps`; an ε one has none), else
    :class:`rewardsde.DenoisingLoss`, both with the min-SNR weight ``min_snr_gamma``. It has
    the drift phase of :class:`rewardsde.ElegantObjective` (``drift_loss``, ``__call__``), so
    :class:`rewardsde.lightning_modules.ElegantModule` trains it with ``estimator="tilted"``.

    **Rounds (SEIKO).** With ``beta > 0`` the target is the optimum of
    ``E[r_i] - α·KL(p ‖ p_pre) - β·KL(p ‖ p_{i-1})``, ``p_i = p_pre·exp(φ_i)`` with
    ``φ_i = (r_i + β·φ_{i-1})/(α+β)``, ``φ_0 = 0``: on the pool the weights become
    ``softmax(φ_i)``, where :meth:`freeze_previous` (called as a round starts, before the
    reward changes) keeps ``φ_{i-1}`` of every pool sample. ``p_{i-1}`` is thus the previous
    round's target, which its fine-tuning approximates. With ``beta = 0``, ``φ = r/α``.

    **A pool that follows the model** (``refresh=True``, rounds with ``beta = 0`` only). A
    pool of the pretrained model holds the tilt only where ``p_pre`` puts samples: on
    Ehrlich a pool of 8,192 keeps an effective size of about 10 at ``α = 0.03``, and the
    later SEIKO rounds, whose reward points beyond the pool, add little. With ``refresh``
    every :meth:`freeze_previous` after the first redraws the pool from the current
    fine-tuned sampler ``q`` and scores it with the reward of the round that trained
    ``q``, ``r_{i-1}``; after the refit the weights are

        w_j ∝ exp((r_i(x^j) - r_{i-1}(x^j))/α),      x^j ~ q,

    self-normalised importance sampling of the same target ``p_pre·exp(r_i/α)`` with the
    proposal ``p_{i-1} = p_pre·exp(r_{i-1}/α)``, which ``q`` was fitted to. The target is
    unchanged; the pool now lies where its mass is. The weights are exact only as far as
    ``q`` reached ``p_{i-1}``: the fitting error of each round is carried into the next
    instead of being corrected against ``p_pre``.

    Args:
        sampler: a fine-tuned sampler whose correction is a :class:`rewardsde.DenoiserCorrection`
            and whose initial law is ``N(0, I)``.
        reward: ``r(x) -> (n,)``; evaluated without gradients.
        alpha: the KL weight, positive.
        beta: the weight of the KL to the previous round's target, non-negative.
        pool: number of pretrained samples ``m``.
        pool_seed: seed of the pool's draw (start states and Brownian motion).
        min_snr_gamma: ``γ`` of the min-SNR weight, or ``None``.
        chunk: pool samples drawn and scored per call.
        refresh: redraw the pool from the fine-tuned model at every round after the first.

    Example::

        sampler = FineTunedSampler(sde, DenoiserCorrection(), steps=20, backend="direct")
        objective = TiltedDenoisingObjective(sampler, reward, alpha=0.05, pool=8192)
        loss = objective.drift_loss(128, seed=step)
        loss.value.backward()
    """

    def __init__(
        self,
        sampler: FineTunedSampler,
        reward: Callable[[Tensor], Tensor],
        alpha: float,
        pool: int = 4096,
        pool_seed: int = 0,
        min_snr_gamma: float | None = 5.0,
        chunk: int = 512,
        beta: float = 0.0,
        refresh: bool = False,
    ) -> None:
        correction = sampler.controlled.correction
        if not isinstance(correction, DenoiserCorrection):
            raise ValueError(
                f"TiltedDenoisingObjective trains a DenoiserCorrection, got a {type(correction).__name__}"
            )
        if sampler.initial_law is not None:
            raise ValueError("TiltedDenoisingObjective keeps the start at N(0, I); give a sampler with no initial_law")
        if not alpha > 0 or not beta >= 0:
            raise ValueError(f"alpha must be positive and beta non-negative, got alpha={alpha}, beta={beta}")
        for name, value in (("pool", pool), ("chunk", chunk)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if refresh and beta > 0:
            raise ValueError(f"refresh=True needs beta=0 (the weights of a refreshed pool know r_(i-1) only), got beta={beta}")
        self.sampler, self.reward, self.alpha, self.beta = sampler, reward, float(alpha), float(beta)
        self.refresh, self.draws = bool(refresh), 0
        self.pool, self.pool_seed, self.chunk = pool, pool_seed, chunk
        self.network = correction.network
        reference = sampler.reference
        cross_entropy = has_x0_logits(self.network)
        kind = CrossEntropyDenoisingLoss if cross_entropy else DenoisingLoss
        self.loss = kind(reference.schedule, reference.s_min, min_snr_gamma)
        self._call = self.network.logits if cross_entropy else self.network
        self.samples: Tensor | None = None
        self.rewards: Tensor | None = None
        self.previous: Tensor | None = None
        self.proposal_rewards: Tensor | None = None

    @property
    def kl_weight(self) -> float:
        """``α + β``, the temperature of the target."""
        return self.alpha + self.beta

    def log_weights(self) -> Tensor:
        """``φ = (r + β·φ_prev)/(α+β)`` on the pool, ``(pool,)`` float64."""
        self.draw_pool()
        if self.proposal_rewards is not None:
            return (self.rewards - self.proposal_rewards) / self.alpha
        previous = 0.0 if self.previous is None else self.beta * self.previous
        return (self.rewards + previous) / self.kl_weight

    @torch.no_grad()
    def freeze_previous(self) -> None:
        """Keep the current ``φ`` as ``φ_prev`` (with ``refresh``: redraw the pool from the fine-tuned
        model and keep the current reward on it); a no-op before the pool has been drawn (round 0)."""
        if self.samples is None:
            return
        if self.refresh:
            self.draws += 1
            sampler = self.sampler
            self.samples = torch.cat([
                sampler.rollout(min(self.chunk, self.pool - start), seed=self.pool_seed + 10**6 * self.draws + k).x
                for k, start in enumerate(range(0, self.pool, self.chunk))
            ])
            self.rescore()
            self.proposal_rewards = self.rewards.clone()
        elif self.beta > 0:
            self.previous = self.log_weights().clone()

    @torch.no_grad()
    def rescore(self) -> None:
        """Score the pool again (after the reward changed, e.g. a SEIKO round's refit); draws it if need be."""
        if self.samples is None:
            return self.draw_pool()
        self.rewards = torch.cat([evaluate_reward(self.reward, x).double() for x in self.samples.split(self.chunk)])

    @torch.no_grad()
    def draw_pool(self) -> None:
        """Draw and score the pool from the pretrained model (not the fine-tuned one, so that a
        resumed run redraws the same pool); once drawn (or restored), only scored if need be."""
        if self.samples is not None:
            if self.rewards is None:
                self.rescore()
            return
        reference = self.sampler.reference
        self.samples = torch.cat([
            sample_reference(reference, min(self.chunk, self.pool - start), self.sampler.steps, self.sampler.method,
                             seed=self.pool_seed + k)
            for k, start in enumerate(range(0, self.pool, self.chunk))
        ])
        self.rescore()

    def weights(self) -> Tensor:
        """``w = softmax(φ)`` over the pool (``softmax(r/α)`` with ``β = 0``), ``(pool,)`` float64."""
        return torch.softmax(self.log_weights(), 0)

    def drift_loss(self, n: int, seed: int) -> Loss:
        """The denoising loss on ``n`` pool samples drawn with probabilities ``w`` (with replacement)."""
        weights = self.weights()
        index_seed, noise_seed = derived_seeds(seed, 2)
        generator = torch.Generator().manual_seed(index_seed)
        index = torch.multinomial(weights.cpu(), n, replacement=True, generator=generator).to(self.samples.device)
        device_generator = torch.Generator(device=self.samples.device).manual_seed(noise_seed)
        value = self.loss(self._call, self.samples[index], device_generator)
        logs = {"reward": self.rewards[index].mean().float(), "ess": (1.0 / weights.pow(2).sum()).float()}
        return Loss(value, logs)

    def __call__(self, phase: str, n: int, seed: int) -> Loss:
        """The loss of ``phase``; only ``"drift"`` exists here."""
        if phase != "drift":
            raise ValueError(f"TiltedDenoisingObjective has only the drift phase of {PHASES}, got {phase!r}")
        return self.drift_loss(n, seed)
