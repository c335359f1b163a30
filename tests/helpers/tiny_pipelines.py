"""Tiny random diffusers pipelines written to disk, so loading is tested without downloads."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDPMPipeline,
    DDPMScheduler,
    StableDiffusionPipeline,
    UNet2DConditionModel,
    UNet2DModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

VOCABULARY = ["<|startoftext|>", "<|endoftext|>", "!", "a", "digit", "cat", "photo", "of", "</w>"]


def tiny_unet() -> UNet2DModel:
    torch.manual_seed(0)
    return UNet2DModel(
        sample_size=8, in_channels=1, out_channels=1, block_out_channels=(8, 16), layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4,
    )


def save_ddpm_pipeline(directory: Path) -> Path:
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, clip_sample=False)
    DDPMPipeline(unet=tiny_unet(), scheduler=scheduler).save_pretrained(str(directory))
    return directory


def _tokenizer(directory: Path) -> CLIPTokenizer:
    vocab = {token: index for index, token in enumerate(VOCABULARY)}
    vocab.update({f"{token}</w>": len(vocab) + i for i, token in enumerate(["a", "digit", "cat", "photo", "of"])})
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=8)


def save_latent_pipeline(directory: Path) -> Path:
    """A Stable-Diffusion-shaped pipeline: 4×8×8 latents, 32×32 pixels, a 2-layer CLIP text encoder."""
    torch.manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, attention_head_dim=4, norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 16, 16),
        down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3, norm_num_groups=8,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
            max_position_embeddings=8, bos_token_id=0, eos_token_id=1, pad_token_id=1,
        )
    )
    scratch = directory / "_tokenizer_source"
    scratch.mkdir(exist_ok=True)
    scheduler = DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000, clip_sample=False)
    pipeline = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=_tokenizer(scratch), unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(directory))
    for file in scratch.iterdir():
        file.unlink()
    scratch.rmdir()
    return directory
