"""Rewards on pixels for models that sample VAE latents."""

from __future__ import annotations

from torch import Tensor, nn

from ..pipelines import check_pipeline_directory, load_component


class DecodedReward(nn.Module):
    """``r(z) = r_image(D(z / c))``: decode latents with the pipeline's VAE, then score pixels.

    ``c`` is the VAE's ``scaling_factor`` (0.18215 for Stable Diffusion 1.x). The
    VAE is frozen but differentiable, so gradients reach the latents.

    Args:
        path: local pipeline directory with a ``vae/`` component.
        reward: ``reward(images (batch, 3, H, W) in [-1, 1]) -> (batch,)``.
    """

    def __init__(self, path: str, reward: nn.Module) -> None:
        from diffusers import AutoencoderKL

        super().__init__()
        directory = check_pipeline_directory(path, ("vae",))
        self.vae = load_component(AutoencoderKL, directory, "vae").requires_grad_(False).eval()
        self.reward = reward

    def decode(self, latents: Tensor) -> Tensor:
        """Pixels ``(batch, 3, H, W)`` of latents ``(batch, C, h, w)``."""
        return self.vae.decode(latents / self.vae.config.scaling_factor).sample

    def forward(self, latents: Tensor) -> Tensor:
        return self.reward(self.decode(latents))


class MeanIntensity(nn.Module):
    """``r(x) = mean pixel value``: a weight-free, differentiable brightness reward for smoke tests."""

    def forward(self, images: Tensor) -> Tensor:
        return images.flatten(1).mean(dim=1)
