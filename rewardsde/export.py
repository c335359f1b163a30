"""Exporting a LoRA-fine-tuned model in a form diffusers loads by itself."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from torch import nn

from .lora import LoraCorrection, adapted_model
from .pipelines import DDPMPipelineSDE, LatentDiffusionSDE

ADAPTER_FILE = "adapter_model.safetensors"


def export_pipeline(sde: DDPMPipelineSDE | LatentDiffusionSDE, correction: LoraCorrection, directory: str | Path) -> Path:
    """Write the fine-tuned model to ``directory``; return it.

    - :class:`LatentDiffusionSDE` (a ``UNet2DConditionModel``): a copy of the base
      pipeline plus ``pytorch_lora_weights.safetensors``, loaded by
      ``StableDiffusionPipeline.from_pretrained(directory).load_lora_weights(directory)``.
    - :class:`DDPMPipelineSDE` (a ``UNet2DModel``, which has no LoRA loader in
      diffusers): a ``DDPMPipeline`` with the adapters merged into the UNet, loaded
      by ``DDPMPipeline.from_pretrained(directory)``, plus the bare adapter in
      ``unet_lora/`` (peft format).

    A learned initial law is not part of either format: diffusers samples
    ``x_0 ~ N(0, I)``, which is the fixed-ν model.
    """
    from diffusers import DDPMPipeline, DDPMScheduler
    from diffusers.loaders.peft import PeftAdapterMixin
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    if not isinstance(correction, LoraCorrection) or correction.reference is not sde:
        raise ValueError("export_pipeline needs the LoraCorrection attached to this sde")
    directory = Path(directory)
    model = adapted_model(sde.network)
    adapter = get_peft_model_state_dict(model)
    if isinstance(sde, LatentDiffusionSDE) and isinstance(model, PeftAdapterMixin):
        from diffusers import StableDiffusionPipeline  # imports transformers: only when exporting one

        shutil.copytree(sde.path, directory, dirs_exist_ok=True)
        StableDiffusionPipeline.save_lora_weights(directory, unet_lora_layers=adapter, safe_serialization=True)
    elif isinstance(sde, DDPMPipelineSDE):
        scheduler = DDPMScheduler.from_pretrained(str(Path(sde.path) / "scheduler"))
        DDPMPipeline(unet=merged_copy(model), scheduler=scheduler).save_pretrained(str(directory))
        (directory / "unet_lora").mkdir(exist_ok=True)
        save_file(adapter, str(directory / "unet_lora" / ADAPTER_FILE))
        config = correction.config.to_dict()
        config["target_modules"] = sorted(config["target_modules"]) if config["target_modules"] else None
        (directory / "unet_lora" / "adapter_config.json").write_text(json.dumps(config, indent=2, default=str))
    else:
        raise ValueError(f"cannot export a {type(sde).__name__}; use DDPMPipelineSDE or LatentDiffusionSDE")
    return directory


def merged_copy(model: nn.Module) -> nn.Module:
    """A copy of a diffusers model of the same class with the adapters folded into its weights."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    merged = copy.deepcopy(model)
    for layer in merged.modules():
        if isinstance(layer, BaseTunerLayer):
            layer.merge()
    state = {
        key.replace(".base_layer", ""): value
        for key, value in merged.state_dict().items()
        if "lora_" not in key
    }
    plain = type(model).from_config(model.config)
    plain.load_state_dict(state)
    return plain
