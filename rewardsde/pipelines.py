"""Pretrained SDEs loaded from diffusers pipeline directories on local disk.

Nothing is downloaded: ``path`` must be a directory written by
``DiffusionPipeline.save_pretrained`` (a ``model_index.json`` plus one folder per
component). Real Stable Diffusion weights and the tiny random pipelines of the
tests go through the same code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn

from .diffusers_eps import DiffusersEps
from .example_configs import missing_model_hint
from .pretrained import PretrainedSDE
from .schedule import VPSchedule

WEIGHT_SUFFIXES = (".safetensors", ".bin")
CONFIG_NAMES = ("config.json", "scheduler_config.json", "tokenizer_config.json")


def check_pipeline_directory(path: str | Path, components: Sequence[str]) -> Path:
    """Return ``path`` if it holds a complete pipeline with ``components``, else raise ``ValueError``.

    Complete means: ``model_index.json`` exists and lists every component, and each
    component folder holds a config, plus a weights file for the model components.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise ValueError(f"pipeline directory {str(directory)!r} does not exist{missing_model_hint(directory)}")
    if not (directory / "model_index.json").is_file():
        raise ValueError(f"{str(directory)!r} is not a diffusers pipeline directory: model_index.json is missing")
    problems = []
    for name in components:
        folder = directory / name
        if not any((folder / config).is_file() for config in CONFIG_NAMES):
            problems.append(f"{name}/ has no config")
        elif (folder / "config.json").is_file() and not any(
            f.suffix in WEIGHT_SUFFIXES for f in folder.iterdir()
        ):
            problems.append(f"{name}/ has no weights file")
    if problems:
        raise ValueError(f"pipeline directory {str(directory)!r} is incomplete: " + "; ".join(problems))
    return directory


def load_component(cls: type, directory: Path, name: str):
    """``cls.from_pretrained(directory / name)``, with a load failure named by component."""
    try:
        return cls.from_pretrained(str(directory / name))
    except Exception as error:  # diffusers and safetensors raise many types for a damaged file
        raise ValueError(f"could not load {name!r} from {str(directory / name)!r}: {error}") from error


class DDPMPipelineSDE(PretrainedSDE):
    """The SDE of a ``UNet2DModel`` pipeline directory (``unet/`` and ``scheduler/``).

    This is the format :meth:`PretrainModule.save_pretrained
    <rewardsde.lightning_modules.PretrainModule.save_pretrained>` writes and
    ``DDPMPipeline.save_pretrained`` writes.

    Args:
        path: local pipeline directory.
        s_min: where generation stops.
    """

    def __init__(self, path: str, s_min: float = 1e-3) -> None:
        from diffusers import DDPMScheduler, UNet2DModel

        directory = check_pipeline_directory(path, ("unet", "scheduler"))
        unet = load_component(UNet2DModel, directory, "unet")
        scheduler = load_component(DDPMScheduler, directory, "scheduler")
        network = DiffusersEps(unet, scheduler.config.num_train_timesteps)
        super().__init__(network, network.sample_shape, VPSchedule.from_diffusers(scheduler), s_min)
        self.path = str(directory)


GUIDANCE_MODES = ("drift", "sampling")


class GuidedEps(nn.Module):
    """Classifier-free guidance over a fixed set of prompt embeddings.

        ε(x, s) = ε_u + w·(ε_c - ε_u),

    with ``ε_c`` conditioned on the prompt of each sample (sample ``i`` gets prompt
    ``i mod P``) and ``ε_u`` on the empty prompt; ``w = 1`` is the plain conditional
    model and costs one UNet call instead of two.

    Args:
        eps: the conditional ε-network, called with ``encoder_hidden_states``.
        prompt_embeddings: ``(P, tokens, width)``.
        empty_embedding: ``(1, tokens, width)``.
        scale: the guidance weight ``w``.
    """

    def __init__(self, eps: DiffusersEps, prompt_embeddings: Tensor, empty_embedding: Tensor, scale: float) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("prompt_embeddings", prompt_embeddings, persistent=False)
        self.register_buffer("empty_embedding", empty_embedding, persistent=False)
        self.scale = float(scale)

    @property
    def adaptable_model(self) -> nn.Module:
        return self.eps.adaptable_model

    def check_event_shape(self, event_shape: tuple[int, ...]) -> None:
        self.eps.check_event_shape(event_shape)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        n = x.shape[0]
        index = torch.arange(n, device=x.device) % self.prompt_embeddings.shape[0]
        conditional = self.prompt_embeddings[index]
        if self.scale == 1.0:
            return self.eps(x, s, encoder_hidden_states=conditional)
        empty = self.empty_embedding.expand_as(conditional)
        both = self.eps(torch.cat([x, x]), torch.cat([s, s]), encoder_hidden_states=torch.cat([empty, conditional]))
        unconditional, conditional_eps = both.chunk(2)
        return unconditional + self.scale * (conditional_eps - unconditional)


class LatentDiffusionSDE(PretrainedSDE):
    """A Stable-Diffusion-shaped model: a text-conditioned ``UNet2DConditionModel`` over VAE latents.

    Loads ``unet/``, ``text_encoder/`` (``CLIPTextModel``), ``tokenizer/``
    (``CLIPTokenizer``) and ``scheduler/`` from a pipeline directory, encodes the
    prompts once, and samples latents ``(C, H, W)`` with classifier-free guidance.
    Decoding to pixels belongs to the reward (:class:`rewardsde.images.DecodedReward`).

    Guidance has two explicit modes:

    - ``"drift"``: the guided ε is the pretrained drift everywhere, so fine-tuning,
      its KL and sampling all use ``w = guidance_scale``;
    - ``"sampling"``: fine-tuning and its KL use the plain conditional model
      (``w = 1``); only :meth:`for_sampling` blocks (which
      :meth:`ElegantModule.rollout <rewardsde.lightning_modules.ElegantModule.rollout>`
      enters) apply ``w = guidance_scale``.

    Args:
        path: local pipeline directory (e.g. a saved Stable Diffusion 1.5).
        prompts: the prompts to fine-tune on, cycled over the batch.
        guidance_scale: the guidance weight ``w``; 1 means no guidance.
        guidance: ``"drift"`` or ``"sampling"``.
        negative_prompt: the prompt of the unconditional branch.
        s_min: where generation stops.
    """

    def __init__(
        self,
        path: str,
        prompts: list[str],
        guidance_scale: float = 7.5,
        guidance: str = "drift",
        negative_prompt: str = "",
        s_min: float = 1e-3,
    ) -> None:
        from diffusers import DDPMScheduler, UNet2DConditionModel
        from transformers import CLIPTextModel, CLIPTokenizer

        if guidance not in GUIDANCE_MODES:
            raise ValueError(f"guidance must be one of {GUIDANCE_MODES}, got {guidance!r}")
        if not prompts:
            raise ValueError("prompts must name at least one prompt")
        if guidance_scale < 1:
            raise ValueError(f"guidance_scale must be at least 1, got {guidance_scale}")
        directory = check_pipeline_directory(path, ("unet", "text_encoder", "tokenizer", "scheduler"))
        unet = load_component(UNet2DConditionModel, directory, "unet")
        text_encoder = load_component(CLIPTextModel, directory, "text_encoder")
        tokenizer = load_component(CLIPTokenizer, directory, "tokenizer")
        scheduler = load_component(DDPMScheduler, directory, "scheduler")
        embeddings = _encode(list(prompts) + [negative_prompt], tokenizer, text_encoder)
        scale = guidance_scale if guidance == "drift" else 1.0
        eps = DiffusersEps(unet, scheduler.config.num_train_timesteps)
        network = GuidedEps(eps, embeddings[:-1], embeddings[-1:], scale)
        super().__init__(network, eps.sample_shape, VPSchedule.from_diffusers(scheduler), s_min)
        self.path = str(directory)
        self.guidance = guidance
        self.guidance_scale = float(guidance_scale)

    @contextmanager
    def for_sampling(self) -> Iterator[None]:
        """Apply ``guidance_scale`` inside the block, whatever the mode."""
        previous, self.network.scale = self.network.scale, self.guidance_scale
        try:
            yield
        finally:
            self.network.scale = previous


@torch.no_grad()
def _encode(prompts: list[str], tokenizer, text_encoder) -> Tensor:
    tokens = tokenizer(
        prompts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    )
    return text_encoder(tokens.input_ids)[0]

