import pytest
import torch

from rewardsde import DiffusersEps, PretrainedSDE
from tests.helpers.tiny_pipelines import tiny_unet


def test_continuous_time_maps_to_the_ddpm_step_of_the_same_noise_level():
    unet = tiny_unet()
    eps = DiffusersEps(unet, num_train_timesteps=1000)
    x = torch.randn(2, 1, 8, 8)
    s = torch.tensor([0.25, 1.0])
    with torch.no_grad():
        assert torch.equal(eps(x, s), unet(x, torch.tensor([249.0, 999.0])).sample)


def test_image_size_that_does_not_match_the_unet_is_named():
    with pytest.raises(ValueError, match=r"event_shape \(1, 16, 16\) does not match .*\(1, 8, 8\)"):
        PretrainedSDE(DiffusersEps(tiny_unet()), (1, 16, 16))
