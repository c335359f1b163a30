"""Pretraining an ε-prediction diffusion model by denoising score matching."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
from diffusers import DDPMPipeline, DDPMScheduler
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from rewardsde.denoising import CrossEntropyDenoisingLoss, DenoisingLoss, has_x0_logits
from rewardsde.diffusers_eps import DiffusersEps
from rewardsde.phases import cosine_factor
from rewardsde.pipelines import DDPMPipelineSDE
from rewardsde.pretrained import PretrainedSDE
from rewardsde.sampling import sample_reference
from rewardsde.schedule import VPSchedule


class PretrainModule(L.LightningModule):
    """Train ``ε_θ`` with the core's :class:`rewardsde.DenoisingLoss`

        E_{x_0, s ~ U(s_min, 1), ε ~ N(0, I)} w(s)·‖ε_θ(√ᾱ(s)·x_0 + σ_s·ε, s) - ε‖²,

    (``w = 1``, or the min-SNR weighting with ``min_snr_gamma``), keeping an
    exponential moving average (EMA) of the weights, which is what
    :meth:`sample` and :meth:`save_pretrained` use. With a :class:`DiffusersEps`
    network the EMA model is saved as a diffusers ``DDPMPipeline`` directory
    (``unet/`` plus a ``scheduler/`` whose continuous limit is ``schedule``), which
    ``UNet2DModel.from_pretrained(path, subfolder="unet")`` and
    :class:`rewardsde.DDPMPipelineSDE` load; a :class:`rewardsde.domains.SequenceEps`
    saves itself, and :class:`rewardsde.domains.SequenceSDE` loads it.

    Args:
        network: ``network(x, s) -> ε``: a :class:`rewardsde.DiffusersEps` around a
            ``UNet2DModel``, or e.g. a timed :class:`rewardsde.MLP` for vectors.
        event_shape: shape of one sample; by default read from the UNet config.
        schedule: the VP schedule; default ``VPSchedule(0.1, 20)``.
        s_min: smallest diffusion time trained on.
        lr: AdamW learning rate, decayed to 0 by a cosine over the run.
        weight_decay: AdamW weight decay.
        ema_decay: EMA decay per optimiser step.
        output_dir: where to save the EMA pipeline when training ends (global rank
            0 only, and only after the configured training: see :meth:`on_train_end`);
            ``None`` saves nothing.
        min_snr_gamma: ``γ`` of the min-SNR weighting; ``None`` for ``w = 1``.
        loss: ``"mse"``, the ε-loss above, or ``"ce"``, the cross-entropy of
            :class:`rewardsde.CrossEntropyDenoisingLoss` on the x₀-logits of a network with a
            ``logits(x, s)`` method (an ``"x0"`` :class:`rewardsde.domains.SequenceEps`) and
            one-hot data, weighted by ``min(SNR, γ)`` with ``min_snr_gamma = γ``.
        lr_multipliers: ``{name: m}``: the network's parameters whose dotted name (as in
            ``network.named_parameters()``) ends in ``name`` train with learning rate ``m·lr``
            (e.g. ``{"backbone.transition": 25}`` for the pairwise potentials of a ``head="chain"``
            :class:`rewardsde.domains.SequenceEps`, which Adam moves at most about ``lr`` per step:
            a banned transition needs a log-potential far below the others). A name that matches
            no parameter raises ``ValueError``.
    """

    def __init__(
        self,
        network: nn.Module,
        event_shape: list[int] | None = None,
        schedule: VPSchedule | None = None,
        s_min: float = 1e-3,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        ema_decay: float = 0.999,
        output_dir: str | None = None,
        min_snr_gamma: float | None = None,
        loss: str = "mse",
        lr_multipliers: dict[str, float] | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= ema_decay < 1:
            raise ValueError(f"ema_decay must lie in [0, 1), got {ema_decay}")
        self.cross_entropy = _check_loss(loss, network)
        self.parameter_groups(network, lr, lr_multipliers or {})  # checks the names now
        schedule = schedule or VPSchedule()
        kind = CrossEntropyDenoisingLoss if self.cross_entropy else DenoisingLoss
        self.loss = kind(schedule, s_min, min_snr_gamma)
        if event_shape is None:
            if not isinstance(network, DiffusersEps):
                raise ValueError(f"event_shape is required for a {type(network).__name__} network")
            event_shape = list(network.sample_shape)
        if isinstance(network, DiffusersEps):
            network.check_event_shape(tuple(event_shape))
        self.save_hyperparameters(ignore=["network", "schedule"])
        self.network = network.requires_grad_(True)
        self.schedule = schedule
        self.event_shape = tuple(event_shape)
        self.ema = AveragedModel(network, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
        self.ema.requires_grad_(False)
        self.ema.module.load_state_dict(network.state_dict())

    def training_step(self, batch: Tensor | list[Tensor], batch_idx: int) -> Tensor:
        x0 = batch[0] if isinstance(batch, (list, tuple)) else batch
        if tuple(x0.shape[1:]) != self.event_shape:
            raise ValueError(f"data of shape {tuple(x0.shape[1:])} does not match event_shape {self.event_shape}")
        loss = self.loss(self.network.logits if self.cross_entropy else self.network, x0)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.ema.update_parameters(self.network)

    def configure_optimizers(self) -> dict:
        h = self.hparams
        groups = self.parameter_groups(self.network, h.lr, h.lr_multipliers or {})
        optimizer = torch.optim.AdamW(groups, lr=h.lr, weight_decay=h.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 1)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: cosine_factor(step, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    @staticmethod
    def parameter_groups(network: nn.Module, lr: float, multipliers: dict[str, float]) -> list[dict]:
        """AdamW parameter groups: one at ``lr`` for the parameters no name of ``multipliers`` ends,
        then one at ``m·lr`` per ``(name, m)`` of ``multipliers``.

        Raises:
            ValueError: for a multiplier that is not positive, or a name no parameter ends in.
        """
        named = list(network.named_parameters())
        taken: set[str] = set()
        groups = []
        for suffix, multiplier in multipliers.items():
            if not multiplier > 0:
                raise ValueError(f"lr_multipliers[{suffix!r}] must be positive, got {multiplier}")
            chosen = [(name, p) for name, p in named if name.endswith(suffix) and name not in taken]
            if not chosen:
                raise ValueError(
                    f"lr_multipliers names {suffix!r}, which no parameter of the {type(network).__name__} ends in"
                )
            taken.update(name for name, _ in chosen)
            groups.append({"params": [p for _, p in chosen], "lr": multiplier * lr})
        return [{"params": [p for name, p in named if name not in taken], "lr": lr}, *groups]

    def pretrained_sde(self) -> PretrainedSDE:
        """The EMA model as a :class:`rewardsde.PretrainedSDE`."""
        return PretrainedSDE(self.ema.module, self.event_shape, self.schedule, self.hparams.s_min)

    def sample(self, n: int, steps: int = 100, seed: int = 0) -> Tensor:
        """``n`` samples of the EMA model, ``(n, *event_shape)``."""
        return sample_reference(self.pretrained_sde(), n, steps, seed=seed)

    def save_pretrained(self, directory: str | Path) -> None:
        """Save the EMA model.

        A network with its own ``save_pretrained(directory, schedule, s_min,
        metadata)`` (e.g. :class:`rewardsde.domains.SequenceEps`) saves itself, with
        the datamodule's ``metadata`` (a dict describing the data) when it has one;
        a :class:`DiffusersEps` UNet is saved with its scheduler as a diffusers
        ``DDPMPipeline``.
        """
        network = self.ema.module
        if hasattr(network, "save_pretrained"):
            trainer = self._trainer
            metadata = getattr(trainer.datamodule, "metadata", None) if trainer is not None else None
            network.save_pretrained(directory, schedule=self.schedule, s_min=self.hparams.s_min, metadata=metadata)
            return
        if not isinstance(network, DiffusersEps):
            raise ValueError(
                f"save_pretrained needs a DiffusersEps network or one with its own save_pretrained, "
                f"not {type(network).__name__}"
            )
        scheduler = DDPMScheduler(**self.schedule.to_diffusers_config(network.num_train_timesteps))
        DDPMPipeline(unet=network.unet, scheduler=scheduler).save_pretrained(str(directory))

    @classmethod
    def from_pretrained(cls, path: str, **kwargs: Any) -> "PretrainModule":
        """A module that continues training a saved pipeline (``unet/`` and ``scheduler/``).

        Both the online and the EMA weights start from the saved (EMA) UNet;
        ``kwargs`` are the other arguments of :class:`PretrainModule`.
        """
        sde = DDPMPipelineSDE(path)
        return cls(sde.network, schedule=sde.schedule, s_min=kwargs.pop("s_min", sde.s_min), **kwargs)

    def on_train_end(self) -> None:
        """Write ``output_dir``, but only after the training the trainer was configured for.

        A ``fast_dev_run``, an interrupted run, a run on part of the data
        (``limit_train_batches``) or one that stopped before its estimated number of
        steps warns and leaves ``output_dir`` as it was, so that an untrained model
        never replaces (or poses as) a pretrained one.
        """
        if self.hparams.output_dir is None or not self.trainer.is_global_zero:
            return
        shortfall = training_shortfall(self.trainer)
        if shortfall is not None:
            rank_zero_warn(f"not writing the pretrained model to {self.hparams.output_dir!r}: {shortfall}")
            return
        self.save_pretrained(self.hparams.output_dir)


def training_shortfall(trainer: L.Trainer) -> str | None:
    """Why ``trainer`` did not run its configured training, or ``None`` if it did."""
    if trainer.fast_dev_run:
        return "this was a fast_dev_run"
    if trainer.interrupted:
        return "training was interrupted"
    if trainer.limit_train_batches != 1.0:
        return f"limit_train_batches={trainer.limit_train_batches} trains on part of the data"
    total = trainer.estimated_stepping_batches
    if math.isfinite(total) and trainer.global_step < total:
        return f"training stopped at step {trainer.global_step} of {int(total)}"
    return None


LOSSES = ("mse", "ce")


def _check_loss(loss: str, network: nn.Module) -> bool:
    """Whether ``loss`` is the cross-entropy; ``ValueError`` for a name or network that does not fit."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "mse":
        return False
    if not has_x0_logits(network):
        raise ValueError(
            "loss='ce' needs a network with x0-logits (SequenceEps(parameterisation='x0')), "
            f"got {type(network).__name__}"
        )
    return True
