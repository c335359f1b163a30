"""ELEGANT's target reached by weighted denoising: the forward-KL route to ``p_pre·exp(r/α)``."""

from __future__ import annotations

import math
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

    **A pool that follows the model** (``refresh = f > 0``, rounds with ``beta = 0`` only). A
    pool of the pretrained model holds the tilt only where ``p_pre`` puts samples: on
    Ehrlich a pool of 8,192 keeps an effective size of 2 to 90 in SEIKO's first round at
    ``α = 0.03``. With
    ``refresh`` every :meth:`freeze_previous` after the first replaces a fraction ``f`` of
    the pool by samples of the current fine-tuned model ``q`` and scores the whole pool
    with the reward of the round that trained ``q``, ``r_{i-1}``. The pool is then a draw
    of the mixture ``(1-f)·p_pre + f·q`` with ``q ≈ p_pre·exp(r_{i-1}/α)/Z``, and after the
    refit its weights toward the same target ``p_pre·exp(r_i/α)`` are those of
    multiple importance sampling with the balance heuristic (Veach and Guibas 1995):

        w_j ∝ exp(r_i(x^j)/α) / ((1-f) + f·exp(r_{i-1}(x^j)/α)/Ẑ),

    ``Ẑ`` the mean of ``exp(r_{i-1}/α)`` over the pretrained part (with ``f = 1`` it
    cancels: ``w_j ∝ exp((r_i - r_{i-1})/α)``). The target is unchanged; part of the pool
    now lies where the model has moved, and each weight is at most ``1/(1-f)`` times its
    weight in a pretrained pool, so a reward that turns away from ``q`` (a UCB bonus
    that falls where the last round bought its labels) leaves the pretrained part to
    carry the target, as a pool of ``(1-f)·m`` would; with ``f = 1`` nothing does. The
    weights of the model's part are exact only as far as ``q`` reached ``p_{i-1}``. A
    refreshed pool does not keep the effective size up when the model finds designs the
    new reward ranks above all others: the tilt then weights those few, as it should
    (on Ehrlich at ``α = 0.03``, seed 100, the size fell to 1-2 after the first refresh,
    with ``f = 1`` and ``f = 0.5`` alike; ``docs/howto/sequences.md``).

    **A pool that holds the neighbours of the best designs** (``neighbours = k > 0``, with
    ``propose``; ``beta = 0`` and no refresh). Neither pool holds designs near the best ones
    labelled so far when the model never draws them (on Ehrlich, none of its samples lay within
    Hamming distance 2 of a best design, ``docs/howto/sequences.md``), so no reward can move
    mass there. :meth:`anchor` (called by :class:`rewardsde.SeikoRound` after each refit)
    draws ``k`` designs from a proposal ``m``, ``propose(anchors, k, generator)`` around the
    ``anchors`` best labelled designs (e.g. :class:`rewardsde.domains.PointMutations`, or
    :class:`rewardsde.domains.GraphGAOffspring` on molecules), and appends them to the ``m``
    pretrained samples. Its density is never evaluated, so any proposal whose draws are
    independent given the anchors will do. The pool is then a draw of the base
    ``b = (1-λ)·p_pre + λ·m``, ``λ = k/(m+k)``, and the weights ``softmax(r/α)`` are exact
    for the target ``b·exp(r/α)``: the tilt of the pretrained model widened by the
    neighbourhood of the best designs. Its KL is to ``b``,
    not ``p_pre``; the neighbours share their anchors' support, as a mutation operator's
    offspring do, and the reward model, fitted on their labels, tells the feasible ones apart.

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
        refresh: the fraction ``f`` of the pool redrawn from the fine-tuned model at every round
            after the first (0: a pretrained pool throughout).
        neighbours: the number ``k`` of designs drawn around the anchors at every :meth:`anchor`.
        propose: ``(anchors, k, generator) -> (k, *event_shape)``, the proposal ``m``; needed
            when ``neighbours > 0``.
        anchors: the number of best labelled designs the proposal draws around.

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
        refresh: float = 0.0,
        neighbours: int = 0,
        propose: Callable[[Tensor, int, torch.Generator], Tensor] | None = None,
        anchors: int = 16,
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
        if not 0.0 <= refresh <= 1.0:
            raise ValueError(f"refresh must lie in [0, 1], got {refresh}")
        if refresh and beta > 0:
            raise ValueError(
                f"refresh > 0 needs beta=0 (the weights of a refreshed pool know r_(i-1) only), got beta={beta}")
        for name, value in (("neighbours", neighbours), ("anchors", anchors)):
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if neighbours and (propose is None or refresh or beta > 0 or anchors < 1):
            raise ValueError(
                f"neighbours > 0 needs a propose function, anchors >= 1, refresh=0 and beta=0 (the neighbours change "
                f"every round), got propose={propose!r}, anchors={anchors}, refresh={refresh}, beta={beta}")
        self.neighbours, self.propose, self.anchors = neighbours, propose, anchors
        self.sampler, self.reward, self.alpha, self.beta = sampler, reward, float(alpha), float(beta)
        self.refresh, self.draws = float(refresh), 0
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
        self.proposal: Tensor | None = None

    @property
    def kl_weight(self) -> float:
        """``α + β``, the temperature of the target."""
        return self.alpha + self.beta

    def log_weights(self) -> Tensor:
        """``φ = (r + β·φ_prev)/(α+β)`` on the pool (with a refreshed pool ``r/α`` minus the log density of
        its mixture against ``p_pre``), ``(pool,)`` float64, up to a constant."""
        self.draw_pool()
        if self.proposal is not None:
            return self.rewards / self.alpha - self.proposal
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
            fresh = max(1, round(self.refresh * self.pool))
            kept = self.pool - fresh
            self.samples = torch.cat([self.samples[:kept]] + [
                self.sampler.rollout(size, seed=self.pool_seed + 10**6 * self.draws + k).x
                for k, size in self._chunks(fresh)
            ])
            self.rescore()
            tilt = self.rewards / self.alpha
            if kept:  # log((1-f) + f·exp(r_{i-1}/α)/Ẑ): the log density of the mixture against p_pre
                f, log_z = fresh / self.pool, torch.logsumexp(tilt[:kept], 0) - math.log(kept)
                self.proposal = torch.logaddexp(torch.full_like(tilt, math.log(1 - f)), math.log(f) + tilt - log_z)
            else:  # the same up to a constant
                self.proposal = tilt
        elif self.beta > 0:
            self.previous = self.log_weights().clone()

    @torch.no_grad()
    def anchor(self, x: Tensor, y: Tensor, seed: int) -> None:
        """Replace the pool's neighbours by ``neighbours`` draws of ``propose`` around the ``anchors``
        designs of ``x`` ``(n, *event_shape)`` with the largest labels ``y`` ``(n,)`` (ties in order);
        they are scored at the next :meth:`rescore`. A no-op with ``neighbours = 0``."""
        if not self.neighbours:
            return
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"anchor needs as many labels as designs, at least one, got {len(x)} and {len(y)}")
        if self.samples is None:
            self.samples = self._draw_pretrained()
        top = x[torch.argsort(y, descending=True, stable=True)[: self.anchors]].to(self.samples)
        local = self.propose(top, self.neighbours, torch.Generator().manual_seed(seed))
        self.samples = torch.cat([self.samples[: self.pool], local.to(self.samples)])
        self.rewards = None

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
        if self.samples is None:
            self.samples = self._draw_pretrained()
        if self.rewards is None:
            self.rescore()

    def _draw_pretrained(self) -> Tensor:
        """The ``pool`` pretrained samples, ``(pool, *event_shape)``."""
        reference = self.sampler.reference
        return torch.cat([
            sample_reference(reference, size, self.sampler.steps, self.sampler.method, seed=self.pool_seed + k)
            for k, size in self._chunks(self.pool)
        ])

    def _chunks(self, n: int) -> list[tuple[int, int]]:
        """``(k, size)`` of the ``k``-th chunk of ``n`` samples drawn ``chunk`` at a time."""
        return [(k, min(self.chunk, n - start)) for k, start in enumerate(range(0, n, self.chunk))]

    def weights(self) -> Tensor:
        """``w = softmax(φ)`` over the pool (``softmax(r/α)`` with ``β = 0``), ``(pool,)`` float64."""
        return torch.softmax(self.log_weights(), 0)

    @torch.no_grad()
    def draw_target(self, n: int, seed: int) -> Tensor:
        """``n`` distinct pool samples drawn in turn with probabilities ``w`` among those not drawn yet,
        ``(n, *event_shape)``: the target ``Σ_i w_i δ_{x^i}`` sampled without replacement.

        By the Gumbel-top-k trick (Kool et al. 2019): with ``G_i`` independent standard Gumbel, the
        indices of the ``n`` largest ``φ_i + G_i`` are such a draw, in draw order. The first draw
        follows ``w`` exactly; later ones lean toward the rest of the pool as the heavy weights are
        used up, so for ``n`` well below the effective size ``1/Σw²`` the draw is close to ``n``
        independent draws of the target, and near or above it a spread over its best-weighted samples
        (``n`` up to the pool's size, the whole pool in draw order). A SEIKO round can buy these
        instead of, or beside, samples of the model that approximates the same target
        (``SeikoRound(target=f)``).
        """
        log_weights = self.log_weights()
        if not (isinstance(n, int) and 1 <= n <= len(log_weights)):
            raise ValueError(f"n must be an integer in [1, {len(log_weights)}] (the pool's size), got {n!r}")
        uniform = torch.rand(len(log_weights), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        gumbel = -torch.log(-torch.log(uniform.clamp_min(torch.finfo(torch.float64).tiny)))
        order = torch.argsort(log_weights.cpu() + gumbel, descending=True, stable=True)[:n]
        return self.samples[order.to(self.samples.device)]

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
