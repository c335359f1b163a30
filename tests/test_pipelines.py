import pytest
import torch
from tiny_pipelines import save_ddpm_pipeline, save_latent_pipeline

from rewardsde import DDPMPipelineSDE, LatentDiffusionSDE, VPSchedule


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
    with torch.no_grad():
        eps = sde.network.unet(x, torch.full((3,), 599.0)).sample
    s = torch.tensor(0.6)
    expected = 0.5 * sde.schedule.beta(s) * x - sde.schedule.beta(s) * eps / sde.schedule.sigma(s)
    assert torch.allclose(sde.drift(t, x), expected, atol=1e-5)


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


def _guided(sde, x, s, scale):
    network = sde.network
    n = x.shape[0]
    index = torch.arange(n) % network.prompt_embeddings.shape[0]
    conditional = network.eps(x, s, encoder_hidden_states=network.prompt_embeddings[index])
    empty = network.eps(x, s, encoder_hidden_states=network.empty_embedding.expand(n, -1, -1))
    return empty + scale * (conditional - empty)


def test_guidance_in_the_drift_applies_everywhere(latent_dir):
    sde = LatentDiffusionSDE(str(latent_dir), ["a photo of a cat", "a digit"], guidance_scale=3.0, guidance="drift")
    x, t = torch.randn(3, 4, 8, 8), torch.tensor(0.5)
    s = torch.full((3,), 0.5)
    with torch.no_grad():
        assert torch.allclose(sde.eps(t, x), _guided(sde, x, s, 3.0), atol=1e-5)
        with sde.for_sampling():
            assert torch.allclose(sde.eps(t, x), _guided(sde, x, s, 3.0), atol=1e-5)


def test_guidance_only_in_sampling_trains_on_the_conditional_model(latent_dir):
    sde = LatentDiffusionSDE(str(latent_dir), ["a photo of a cat", "a digit"], guidance_scale=3.0, guidance="sampling")
    x, t = torch.randn(3, 4, 8, 8), torch.tensor(0.5)
    s = torch.full((3,), 0.5)
    with torch.no_grad():
        assert torch.allclose(sde.eps(t, x), _guided(sde, x, s, 1.0), atol=1e-5)
        with sde.for_sampling():
            assert torch.allclose(sde.eps(t, x), _guided(sde, x, s, 3.0), atol=1e-5)
        assert torch.allclose(sde.eps(t, x), _guided(sde, x, s, 1.0), atol=1e-5)


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
