from contextlib import nullcontext

import pytest
import torch
from diffusers import UNet2DModel

from rewardsde import DDPMPipelineSDE, LatentDiffusionSDE, VPSchedule
from tests.helpers.tiny_pipelines import save_ddpm_pipeline, save_latent_pipeline


@pytest.fixture(scope="module")
def ddpm_dir(tmp_path_factory):
    return save_ddpm_pipeline(tmp_path_factory.mktemp("ddpm"))


@pytest.fixture(scope="module")
def latent_dir(tmp_path_factory):
    return save_latent_pipeline(tmp_path_factory.mktemp("latent"))


def test_ddpm_pipeline_gives_the_sde_of_its_unet_and_schedule(ddpm_dir):
    sde = DDPMPipelineSDE(str(ddpm_dir))
    assert sde.event_shape == (1, 8, 8)
    assert (sde.schedule.beta_min, sde.schedule.beta_max) == pytest.approx((0.1, 20.0))
    x, t = torch.randn(3, 1, 8, 8), torch.tensor(0.4)
    unet = UNet2DModel.from_pretrained(str(ddpm_dir / "unet"))
    with torch.no_grad():
        # diffusion time s = 1 - t = 0.6 is the scheduler's step 0.6·1000 - 1 (step k noises to s = (k + 1)/N)
        torch.testing.assert_close(sde.eps(t, x), unet(x, torch.full((3,), 599)).sample)


def test_missing_pipeline_directory_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        DDPMPipelineSDE(str(tmp_path / "nowhere"))


def test_directory_without_model_index_is_named(tmp_path):
    with pytest.raises(ValueError, match="model_index.json is missing"):
        DDPMPipelineSDE(str(tmp_path))


def test_half_written_pipeline_names_the_missing_parts(tmp_path):
    directory = save_ddpm_pipeline(tmp_path / "p")
    (directory / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ValueError, match="incomplete: unet/ has no weights file"):
        DDPMPipelineSDE(str(directory))


def test_truncated_weights_file_is_named_by_component(tmp_path):
    directory = save_ddpm_pipeline(tmp_path / "p")
    weights = directory / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ValueError, match="could not load 'unet'"):
        DDPMPipelineSDE(str(directory))


def test_latent_pipeline_reads_the_scaled_linear_schedule_and_latent_shape(latent_dir):
    sde = LatentDiffusionSDE(str(latent_dir), ["a photo of a cat"], guidance_scale=3.0)
    assert sde.event_shape == (4, 8, 8)
    assert sde.schedule.kind == "scaled_linear"
    assert sde.schedule.beta_min == pytest.approx(0.85)


CAT_AND_DIGIT = ["a photo of a cat", "a digit"]


@pytest.fixture(scope="module")
def guided_eps(latent_dir):
    """ε of the latent pipeline at one (x, t) for several prompt sets and guidance settings."""
    x, t = torch.randn(3, 4, 8, 8, generator=torch.Generator().manual_seed(0)), torch.tensor(0.5)

    def eps(prompts, scale=1.0, guidance="drift", sampling=False):
        sde = LatentDiffusionSDE(str(latent_dir), prompts, guidance_scale=scale, guidance=guidance)
        with torch.no_grad(), sde.for_sampling() if sampling else nullcontext():
            return sde.eps(t, x)

    return eps


def test_guidance_is_linear_in_the_scale_from_the_unconditional_model(guided_eps):
    """``w = 1`` is the conditional model and the empty (negative) prompt the unconditional one,
    so ``w = 0`` sits one unit step below ``w = 1``, and every unit step of ``w`` moves ε by the
    same amount."""
    unconditional = guided_eps([""])
    steps = [unconditional] + [guided_eps(CAT_AND_DIGIT, scale) for scale in (1.0, 2.0, 3.0)]
    assert (steps[1] - steps[0]).abs().max() > 1e-3, "the prompts must change the prediction"
    for below, here, above in zip(steps, steps[1:], steps[2:]):
        torch.testing.assert_close(above - here, here - below, atol=1e-5, rtol=1e-4)


def test_guidance_towards_the_negative_prompt_changes_nothing(guided_eps):
    torch.testing.assert_close(guided_eps([""], 3.0), guided_eps([""]), atol=1e-5, rtol=1e-4)


def test_prompts_are_cycled_over_the_batch(guided_eps):
    both, cat, digit = guided_eps(CAT_AND_DIGIT), guided_eps(CAT_AND_DIGIT[:1]), guided_eps(CAT_AND_DIGIT[1:])
    torch.testing.assert_close(both[[0, 2]], cat[[0, 2]], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(both[1], digit[1], atol=1e-5, rtol=1e-4)


def test_guidance_only_in_sampling_trains_on_the_conditional_model(guided_eps):
    conditional, guided = guided_eps(CAT_AND_DIGIT), guided_eps(CAT_AND_DIGIT, 3.0)
    torch.testing.assert_close(guided_eps(CAT_AND_DIGIT, 3.0, "sampling"), conditional)
    torch.testing.assert_close(guided_eps(CAT_AND_DIGIT, 3.0, "sampling", sampling=True), guided, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(guided_eps(CAT_AND_DIGIT, 3.0, "drift", sampling=True), guided)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"guidance": "always"}, "guidance must be one of"), ({"guidance_scale": 0.5}, "guidance_scale"), ({"prompts": []}, "prompts")],
)
def test_bad_latent_options_are_named(latent_dir, kwargs, message):
    options = {"prompts": ["a cat"]} | kwargs
    with pytest.raises(ValueError, match=message):
        LatentDiffusionSDE(str(latent_dir), **options)


def test_schedule_is_not_guessed_for_unsupported_kinds():
    with pytest.raises(ValueError, match="kind must be one of"):
        VPSchedule(0.1, 20.0, "cosine")
