"""diffusers UNets as ε-networks of continuous diffusion time."""

from __future__ import annotations

from torch import Tensor, nn


class DiffusersEps(nn.Module):
    """``ε(x, s) = unet(x, s·N - 1).sample`` for a diffusers UNet trained on ``N`` steps.

    A DDPM step ``k ∈ {0, …, N-1}`` has noise level ``ᾱ_k = Π_{i≤k}(1 - β_i)``,
    whose continuous counterpart is ``ᾱ(s)`` at ``s = (k + 1)/N``; this wrapper
    maps continuous diffusion time ``s ∈ (0, 1]`` to that fractional step (diffusers
    embeds timesteps sinusoidally, so fractions are fine). It lets
    :class:`rewardsde.PretrainedSDE` treat ``UNet2DModel`` and
    ``UNet2DConditionModel`` like any other ε-network.

    Args:
        unet: a diffusers ``UNet2DModel`` or ``UNet2DConditionModel``.
        num_train_timesteps: ``N`` of the scheduler the UNet was trained with.

    Example:
        >>> eps = DiffusersEps(UNet2DModel(sample_size=8, in_channels=1, out_channels=1), 1000)
        >>> eps(torch.randn(4, 1, 8, 8), torch.rand(4)).shape
        torch.Size([4, 1, 8, 8])
    """

    def __init__(self, unet: nn.Module, num_train_timesteps: int = 1000) -> None:
        super().__init__()
        if num_train_timesteps < 1:
            raise ValueError(f"num_train_timesteps must be positive, got {num_train_timesteps}")
        self.unet = unet
        self.num_train_timesteps = int(num_train_timesteps)

    @property
    def adaptable_model(self) -> nn.Module:
        """The UNet: where LoRA adapters go."""
        return self.unet

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """``(in_channels, height, width)`` from the UNet's config."""
        config = self.unet.config
        size = config.sample_size
        height, width = (size, size) if isinstance(size, int) else tuple(size)
        return (config.in_channels, height, width)

    def check_event_shape(self, event_shape: tuple[int, ...]) -> None:
        """Raise ``ValueError`` unless samples of ``event_shape`` fit the UNet's config."""
        expected = self.sample_shape
        if tuple(event_shape) != expected:
            raise ValueError(
                f"event_shape {tuple(event_shape)} does not match the UNet's (in_channels, sample_size) = {expected}"
            )

    def forward(self, x: Tensor, s: Tensor, **condition: Tensor) -> Tensor:
        timestep = (s * self.num_train_timesteps - 1.0).clamp(min=0.0)
        return self.unet(x, timestep, **condition).sample
